"""Every CLI command and option, and every config setting, is documented (datasette's rule)."""

from __future__ import annotations

from pathlib import Path

import typer.main
from pydantic import BaseModel

from crmbridge.cli import app
from crmbridge.config.model import Config

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _settings(model: type[BaseModel]) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        names.add(name)
        for arg in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names |= _settings(arg)
    return names


def test_every_command_and_option_is_in_docs_cli() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    missing = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        if f"`crmbridge {name}" not in text:
            missing.append(f"command {name}")
        for param in command.params:
            for option in (o for o in param.opts if o.startswith("--") and o != "--help"):
                if f"`{option}" not in text:
                    missing.append(f"{name} {option}")
    assert missing == []


def test_every_setting_is_in_docs_configuration() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = sorted(name for name in _settings(Config) if f"`{name}`" not in text)
    assert missing == []
