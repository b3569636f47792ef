"""`crmbridge setup`: the first config, from a portal's inbound webhook and an infobase's OData."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import typer

from crmbridge.cli_common import clear_errors
from crmbridge.readiness import setup as setup_module
from crmbridge.readiness.ask import Asker


def setup(
    odata_url: Annotated[
        str, typer.Option(envvar="BAS_ODATA_URL", help="…/odata/standard.odata/ of the infobase.")
    ],
    bas_user: Annotated[str, typer.Option(envvar="BAS_USER", help="The infobase user.")],
    bas_password: Annotated[
        str, typer.Option(envvar="BAS_PASSWORD", help="Its password (or BAS_PASSWORD).")
    ],
    webhook_url: Annotated[
        str | None,
        typer.Option(
            envvar="B24_WEBHOOK_URL",
            help="The portal's inbound webhook, https://<portal>/rest/<user>/<code>/.",
        ),
    ] = None,
    portal: Annotated[
        str | None, typer.Option(help="Instead of a webhook, a local application's portal.")
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="The local application's id.")] = None,
    client_secret: Annotated[
        str | None, typer.Option(envvar="B24_CLIENT_SECRET", help="And its secret.")
    ] = None,
    oauth_server: Annotated[
        str, typer.Option(help="The authorization server.")
    ] = "https://oauth.bitrix.info",
    config: Annotated[
        Path, typer.Option("--config", "-c", help="The config to write.", dir_okay=False)
    ] = Path("crmbridge.yaml"),
    public_url: Annotated[
        str | None,
        typer.Option(help="https://… where the portal reaches crmbridge (for its events)."),
    ] = None,
    application_token: Annotated[
        str | None,
        typer.Option(envvar="B24_APPLICATION_TOKEN", help="The outgoing webhook's token."),
    ] = None,
    invoice_stage: Annotated[
        str | None, typer.Option(help="The stage id that means «issue the invoice».")
    ] = None,
    paid_stage: Annotated[str | None, typer.Option(help="The stage id that means «paid».")] = None,
    organisation: Annotated[
        str | None, typer.Option(help="Our ЄДРПОУ, when BAS keeps several organisations.")
    ] = None,
    price_type: Annotated[
        str | None, typer.Option(help="The BAS price type that feeds the CRM.")
    ] = None,
    database: Annotated[
        str, typer.Option(help="The database URL the config names.")
    ] = "sqlite:///crmbridge.db",
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Ask nothing: every answer comes from a flag.")
    ] = False,
) -> None:
    """Write a working config from an inbound webhook (or a local application: --portal,
    --client-id, --client-secret; run once to write the config, install the application while
    serve runs, then run again) and an OData address. Read both systems, ask what they cannot
    tell (the invoice and paid stages; the organisation and price type when there are
    several), then — after one yes — create the deal fields crmbridge needs and write the
    config. Run again, it changes nothing that is right."""
    options = setup_module.Options(
        webhook_url=webhook_url,
        odata_url=odata_url,
        bas_user=bas_user,
        bas_password=bas_password,
        config=config,
        public_url=public_url,
        application_token=application_token,
        invoice_stage=invoice_stage,
        paid_stage=paid_stage,
        organisation=organisation,
        price_type=price_type,
        database=database,
        portal=portal,
        client_id=client_id,
        client_secret=client_secret,
        oauth_server=oauth_server,
    )
    asker = Asker(read=None if yes else _prompt, say=typer.echo)
    with clear_errors():
        setup_module.run(options, asker, assume_yes=yes)


def _prompt(question: str) -> str | None:
    """The answer typed (or piped in); None once the input has ended."""
    try:
        return str(typer.prompt(question, default="", show_default=False))
    except click.exceptions.Abort:
        return None


def register(app: typer.Typer) -> None:
    app.command("setup")(setup)
