"""`crmbridge demo` (what `make demo` runs): every step verified, exit status 0, and the trace
can be asked for again afterwards."""

from __future__ import annotations

import re

from tests.e2e.test_cli_database import crmbridge


def test_the_demo_verifies_every_step_and_exits_0() -> None:
    result = crmbridge("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 of 7 steps verified against the sandbox" in result.stdout
    assert "task «ship the order» created" in result.stdout
    assert "issue_invoice: create invoice" in result.stdout  # the trace is printed
    assert "sandbox-app-token" not in result.stdout + result.stderr
    # It says how to ask for the trace again, and that command finds the demo's database.
    found = re.search(r"again: crmbridge trace deal (\d+) --database (\S+)", result.stdout)
    assert found is not None, result.stdout
    again = crmbridge("trace", "deal", found[1], "--database", found[2])
    assert again.returncode == 0, again.stderr
    assert "create invoice" in again.stdout
