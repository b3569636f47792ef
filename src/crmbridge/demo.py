"""`crmbridge demo`: the typical scenario, end to end, on the embedded default.

The sandbox (both emulators) and the bridge (intake, worker, pollers) run in this process on free
loopback ports, with SQLite in a temporary folder. The rep's click, the invoice, the PDF on the
deal, the accountant's payment, the paid stage and the task: each step is checked against the
sandbox's own state, and the demo exits 0 only when every check passed.
"""

from __future__ import annotations

import importlib
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console

from crmbridge import markers
from crmbridge.app import Application
from crmbridge.config.load import load_config
from crmbridge.errors import ConfigError
from crmbridge.queue.scheduler import Scheduler, periodic_jobs
from crmbridge.queue.worker import Worker, WorkerSettings
from crmbridge.sandbox.server import Sandbox, SandboxSettings
from crmbridge.store.database import open_database
from crmbridge.store.migrate import migrate
from crmbridge.trace import timeline
from crmbridge.web.app import create_app
from crmbridge.web.serving import free_port, serving


class DemoCrm(Protocol):
    """A CRM's part in the demo (`crmbridge.sandbox.<type>.demo.DEMO`): the rep's action in its
    sandbox, and what the demo reads back to verify each step."""

    example: Path  # the config the demo runs (pointed at the sandbox by environment variables)
    deal_id: str
    hook_path: str  # where the CRM's webhooks reach the bridge (a sandbox setting)
    invoice_stage: str  # the stage's name, for the step's line
    paid_stage: str

    def __init__(self, sandbox: Sandbox, bridge_url: str) -> None: ...

    def environment(self) -> dict[str, str]:
        """What the example config reads from the environment besides the shared variables."""
        ...

    def connect(self) -> None:
        """Once the bridge answers: what an admin sets up in the CRM (e.g. its webhook)."""
        ...

    def describe(self) -> str: ...

    def issue_invoice(self) -> None: ...

    def in_invoice_stage(self) -> bool: ...

    def pdf_attached(self, number: str) -> bool: ...

    def invoice_number(self) -> str | None: ...

    def in_paid_stage(self) -> bool: ...

    def task(self) -> str | None: ...

    def pages(self) -> list[str]: ...


def demo_crm(crm: str) -> type[DemoCrm]:
    """The demo part of the CRM type `crm` (its sandbox package's `demo` module)."""
    try:
        module = importlib.import_module(f"crmbridge.sandbox.{crm}.demo")
    except ModuleNotFoundError:
        raise ConfigError(f"no demo for the CRM {crm!r}") from None
    return module.DEMO  # type: ignore[no-any-return]


@dataclass
class Step:
    name: str
    ok: bool = False
    detail: str = ""


@dataclass
class Demo:
    sandbox: Sandbox
    crm: DemoCrm
    application: Application
    bridge_url: str
    console: Console
    password: str  # the dashboard's, made up for this run (user `admin`)
    steps: list[Step] = field(default_factory=list)

    def check(self, name: str, condition: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Wait for `condition` to hold (it reads the sandbox's state); record the step."""
        step = Step(name)
        self.steps.append(step)
        with self.console.status(f"[bold]{name}…"):
            deadline = time.monotonic() + timeout
            while (value := condition()) in (None, False, "", [], {}):
                if time.monotonic() > deadline:
                    self.console.print(f"[red]✗[/] {name}: not within {timeout:.0f} s")
                    return None
                time.sleep(0.1)
        step.ok, step.detail = True, _short(value)
        self.console.print(f"[green]✓[/] {name}" + (f": {step.detail}" if step.detail else ""))
        return value


def _short(value: Any) -> str:
    return value if isinstance(value, str) else ""


@contextmanager
def running(console: Console, folder: Path, crm: str = "bitrix24") -> Iterator[Demo]:
    kind = demo_crm(crm)
    sandbox_port, bridge_port = free_port(), free_port()
    sandbox_url, bridge_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{bridge_port}"
    hook = f"{bridge_url}{kind.hook_path}"
    sandbox = Sandbox(SandboxSettings(public_url=sandbox_url, outgoing_webhook=hook, b24_rate=None))
    part = kind(sandbox, bridge_url)
    db_url = f"sqlite:///{folder / 'crmbridge.db'}"
    password = secrets.token_urlsafe(12)
    env = {
        "CRMBRIDGE_SANDBOX_URL": sandbox_url,
        "CRMBRIDGE_DATABASE_URL": db_url,
        "CRMBRIDGE_POLL_EVERY": "1",
        "CRMBRIDGE_WEB_TOKEN": secrets.token_urlsafe(24),
        "CRMBRIDGE_WEB_PASSWORD": password,
        **part.environment(),
    }
    config = load_config(kind.example, env).config
    db = open_database(db_url)
    migrate(db)
    application = Application(config, db)
    worker = Worker(db, application.handlers(), WorkerSettings(concurrency=4))
    payments = config.flows.payments
    scheduler = Scheduler(
        db, application.clock, periodic_jobs(payments.poll_every if payments else None)
    )
    with (
        serving(sandbox.app, port=sandbox_port),
        serving(create_app(application), port=bridge_port),
    ):
        threading.Thread(target=worker.run, name="worker", daemon=True).start()
        scheduler.start()
        part.connect()
        try:
            yield Demo(sandbox, part, application, bridge_url, console, password)
        finally:
            scheduler.stop()
            worker.stop()
            application.close()
            db.dispose()


def scenario(demo: Demo) -> bool:
    sandbox, crm = demo.sandbox, demo.crm
    demo.console.print(crm.describe())
    crm.issue_invoice()
    demo.check(f"rep moves the deal to {crm.invoice_stage}", crm.in_invoice_stage)
    invoice = demo.check("invoice created and posted in BAS", lambda: _invoice(demo))
    if invoice is None:
        return False
    number = str(invoice["Number"])
    demo.check("PDF attached to the deal", lambda: crm.pdf_attached(number))
    demo.check(
        "invoice number and status written into the deal",
        lambda: crm.invoice_number() == number and f"№ {number}",
    )
    total = Decimal(str(invoice["СуммаДокумента"]))
    sandbox.bas.record_payment(str(invoice["Ref_Key"]), total)
    demo.check(
        f"accountant records the payment of {total} грн in BAS",
        lambda: sandbox.bas.paid(str(invoice["Ref_Key"])) == total,
    )
    demo.check(f"payment found; deal moved to {crm.paid_stage}", crm.in_paid_stage)
    demo.check("task «ship the order» created for the deal's rep", crm.task)
    return all(step.ok for step in demo.steps)


def _invoice(demo: Demo) -> dict[str, Any] | None:
    marker = markers.deal(demo.crm.deal_id)
    mine = [i for i in demo.sandbox.bas.invoices() if marker in str(i["Комментарий"])]
    return mine[0] if len(mine) == 1 and mine[0]["Posted"] else None


def print_trace(demo: Demo) -> None:
    from rich.table import Table

    entity, crm_id, entries = timeline(demo.application.db, "deal", demo.crm.deal_id)
    table = Table("time", "kind", "what", title=f"crmbridge trace {entity} {crm_id}")
    for entry in entries:
        if entry.kind in ("decision", "call", "event", "effect"):
            table.add_row(entry.at.strftime("%H:%M:%S.%f")[:-3], entry.kind, entry.what)
    demo.console.print(table)


def print_urls(demo: Demo) -> None:
    """Where to click, one per line (never wrapped, so a script can read them too)."""
    sandbox = demo.sandbox.settings.public_url
    for line in (
        f"dashboard: {demo.bridge_url}/  (user: admin  password: {demo.password})",
        f"deal trace: {demo.bridge_url}/trace/deal/{demo.crm.deal_id}",
        *demo.crm.pages(),
        f"BAS invoices: {sandbox}/bas/",
        "Ctrl+C to stop",
    ):
        demo.console.print(line, soft_wrap=True, highlight=False, markup=False)
    demo.console.file.flush()


def run(*, serve: bool = False, folder: Path | None = None, crm: str = "bitrix24") -> int:
    console = Console()
    work = folder or Path(tempfile.mkdtemp(prefix="crmbridge-demo-"))
    with running(console, work, crm) as demo:
        console.print(
            f"[bold]crmbridge demo[/] — sandbox {demo.sandbox.settings.public_url}, "
            f"bridge {demo.bridge_url}, SQLite in {work}"
        )
        ok = scenario(demo)
        print_trace(demo)
        console.print(  # the database stays, so the trace can be asked for again
            f"again: crmbridge trace deal {demo.crm.deal_id} "
            f"--database sqlite:///{work / 'crmbridge.db'}",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
        passed = sum(step.ok for step in demo.steps)
        console.print(f"[bold]{passed} of {len(demo.steps)} steps verified against the sandbox[/]")
        if serve:
            print_urls(demo)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0 if ok else 1
