"""`crmbridge demo` (what `make demo` runs): every step verified, exit status 0."""

from __future__ import annotations

from tests.e2e.test_cli_database import crmbridge


def test_the_demo_verifies_every_step_and_exits_0() -> None:
    result = crmbridge("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 of 7 steps verified against the sandbox" in result.stdout
    assert "task «ship the order» created" in result.stdout
    assert "issue_invoice: create invoice" in result.stdout  # the trace is printed
    assert "sandbox-app-token" not in result.stdout + result.stderr
