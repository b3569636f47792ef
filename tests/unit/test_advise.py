"""The advisor at and across each threshold, and its cost argument."""

from __future__ import annotations

import pytest

from crmbridge.advise import (
    DIRECT_MAX_PER_DAY,
    DIRECT_MAX_RULES,
    MANUAL_MAX_PER_DAY,
    MANUAL_MAX_RULES,
    Answers,
    advise,
    monthly_cost,
)


@pytest.mark.parametrize(
    ("per_day", "shape"),
    [
        (0, "manual"),
        (MANUAL_MAX_PER_DAY, "manual"),  # 20
        (MANUAL_MAX_PER_DAY + 1, "direct"),  # 21
        (DIRECT_MAX_PER_DAY, "direct"),  # 100
        (DIRECT_MAX_PER_DAY + 1, "middleware"),  # 101
        (100_000, "middleware"),
    ],
)
def test_volume_thresholds(per_day: int, shape: str) -> None:
    assert advise(Answers(per_day)).shape == shape


def test_volume_reason_names_the_threshold() -> None:
    reasons = advise(Answers(21)).reasons
    assert any("21 exchanges a day > 20" in r for r in reasons)


@pytest.mark.parametrize(
    ("per_day", "shape"), [(20, "manual"), (21, "middleware"), (100, "middleware")]
)
def test_two_way_rules_out_the_direct_link(per_day: int, shape: str) -> None:
    assert advise(Answers(per_day, direction="one-way")).shape != "middleware"
    assert advise(Answers(per_day, direction="two-way")).shape == shape


@pytest.mark.parametrize(
    ("rules", "at_10", "at_50"),
    [
        (MANUAL_MAX_RULES, "manual", "direct"),  # 2
        (MANUAL_MAX_RULES + 1, "direct", "direct"),  # 3
        (DIRECT_MAX_RULES, "direct", "direct"),  # 5
        (DIRECT_MAX_RULES + 1, "middleware", "middleware"),  # 6
    ],
)
def test_rules_thresholds(rules: int, at_10: str, at_50: str) -> None:
    assert advise(Answers(10, rules=rules)).shape == at_10
    assert advise(Answers(50, rules=rules)).shape == at_50


def test_audit_rules_out_the_manual_bridge_only() -> None:
    assert advise(Answers(10, audit=False)).shape == "manual"
    assert advise(Answers(10, audit=True)).shape == "direct"
    assert advise(Answers(50, audit=True)).shape == "direct"
    assert advise(Answers(10, audit=True, direction="two-way")).shape == "middleware"


def test_each_recommendation_points_to_its_starting_point() -> None:
    assert "crmbridge procedure" in advise(Answers(5)).example
    assert advise(Answers(50)).example == "examples/direct-link.yaml"
    assert advise(Answers(500)).example == "examples/bitrix24-bas.yaml"


def test_the_cost_argument_escalates_when_stalls_cost_more_than_the_machinery() -> None:
    # 10 a day would be manual, but 30 exceptional cases a month at 2,000 an hour stalled:
    # manual 30 × 8 h × 2,000 = 480,000 + 8/12 × 1,000 ≈ 480,666.67 a month;
    # middleware 30 × 1 h × 2,000 = 60,000 + (120/12 + 8) × 1,000 = 78,000 a month.
    answers = Answers(10, exceptions_per_month=30, hour_cost=2000)
    result = advise(answers)
    assert result.shape == "middleware"
    assert result.monthly_cost["manual"] == pytest.approx(480_666.67)
    assert result.monthly_cost["middleware"] == pytest.approx(78_000)
    assert any(
        "30 exceptional cases × 8 h stalled × 2 000.00 = 480 000.00" in r for r in result.reasons
    )
    assert any(r.startswith("cost: middleware costs 78 000.00") for r in result.reasons)


def test_few_exceptions_keep_the_cheapest_able_shape() -> None:
    result = advise(Answers(10, exceptions_per_month=1, hour_cost=100))
    assert result.shape == "manual"
    assert result.monthly_cost["manual"] < result.monthly_cost["middleware"]


def test_cost_crossover_between_direct_and_middleware() -> None:
    # direct 5,333.33 + 6·E·H against middleware 18,000 + E·H: middleware wins past E·H = 2,533.33
    below = Answers(50, exceptions_per_month=10, hour_cost=253)
    above = Answers(50, exceptions_per_month=10, hour_cost=254)
    assert monthly_cost(below, "direct") < monthly_cost(below, "middleware")
    assert advise(below).shape == "direct"
    assert monthly_cost(above, "direct") > monthly_cost(above, "middleware")
    assert advise(above).shape == "middleware"


def test_json_shape() -> None:
    body = advise(Answers(150)).json()
    assert body["recommendation"] == "middleware"
    assert isinstance(body["reasons"], list) and body["reasons"]


@pytest.mark.parametrize(
    "bad",
    [
        {"exchanges_per_day": -1},
        {"exchanges_per_day": 1, "rules": -2},
        {"exchanges_per_day": 1, "hour_cost": -5.0},
        {"exchanges_per_day": 1, "direction": "sideways"},
    ],
)
def test_bad_answers_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Answers(**bad)  # type: ignore[arg-type]


def test_cli_json_and_no_terminal_defaults() -> None:
    import json

    from typer.testing import CliRunner

    from crmbridge.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["advise", "--exchanges-per-day", "101", "--json"])
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["recommendation"] == "middleware"
    assert body["example"] == "examples/bitrix24-bas.yaml"
    missing = runner.invoke(app, ["advise", "--json"])  # no terminal to ask on
    assert missing.exit_code == 2
    assert "--exchanges-per-day is required" in missing.stderr
    bad = runner.invoke(app, ["advise", "--exchanges-per-day", "5", "--direction", "both"])
    assert bad.exit_code == 2 and "is not one of one-way/two-way" in bad.stderr


def _on_a_terminal(args: list[str], typed: str) -> tuple[int, str]:
    """Run `crmbridge ARGS` with a pseudo-terminal as stdin/stdout/stderr, type `typed`, and
    return the exit status and everything the terminal showed."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmbridge", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    os.close(follower)
    os.write(leader, typed.encode())
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return proc.wait(timeout=60), shown.decode(errors="replace").replace("\r\n", "\n")


def test_missing_answers_are_asked_on_a_terminal_and_a_wrong_one_is_asked_again() -> None:
    # 30 a day is over the manual bridge's 20; two-way rules out the direct link.
    typed = "thirty\n30\nboth\ntwo-way\n3\nyes\n4\n500\n"
    status, shown = _on_a_terminal(["advise"], typed)
    assert status == 0, shown
    for question in (
        "Exchanges a day",
        "Direction (one-way/two-way) [one-way]",
        "Transformation rules [0]",
        "Audit trail needed (yes/no) [no]",
        "Exceptional cases a month [0]",
        "Cost of one stalled hour [0.0]",
    ):
        assert question in shown
    assert "Input should be a valid integer" in shown  # asked again, not a crash
    assert "'both' is not one of one-way/two-way" in shown
    assert "recommendation: middleware" in shown


def test_flags_given_are_not_asked_and_defaults_are_taken_on_enter() -> None:
    status, shown = _on_a_terminal(
        ["advise", "--exchanges-per-day", "5", "--direction", "one-way"], "\n\n\n\n"
    )
    assert status == 0, shown
    assert "Exchanges a day" not in shown and "Direction" not in shown
    assert "Transformation rules [0]" in shown
    assert "recommendation: manual" in shown  # 5 a day, no audit: the written procedure
