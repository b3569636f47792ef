"""The command group itself: `--version` answers without a command."""

from __future__ import annotations

from typer.testing import CliRunner

from crmbridge import __version__
from crmbridge.cli import app


def test_version_needs_no_command() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__
