"""`batch`: packing commands 50 to a request and reading the answer back per command.

Commands are always named (`c0`, `deal`, …), never numbered: with numeric keys the portal
returns `result_error` as a plain list that does not say which command failed (recorded in
`tests/fixtures/recorded/bitrix24/batch_mix_success_and_errors.json`). Answers are still read
defensively: `[]` for an empty section, and a list of errors is matched to the commands that
have no result, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from crmbridge.connectors.bitrix24.wire import error, php_query
from crmbridge.errors import CrmbridgeError

MAX_COMMANDS = 50


@dataclass(frozen=True)
class Command:
    method: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        query = php_query(self.params)
        return f"{self.method}?{query}" if query else self.method


@dataclass(frozen=True)
class BatchResult:
    results: dict[str, Any]
    errors: dict[str, CrmbridgeError]
    totals: dict[str, int]


def chunks(
    commands: Mapping[str, Command], size: int = MAX_COMMANDS
) -> Iterator[dict[str, Command]]:
    """The commands in requests of at most `size`, in order."""
    if not 1 <= size <= MAX_COMMANDS:
        raise ValueError(f"a batch holds 1..{MAX_COMMANDS} commands")
    items = list(commands.items())
    for start in range(0, len(items), size):
        yield dict(items[start : start + size])


def request(commands: Mapping[str, Command], *, halt: bool = False) -> dict[str, Any]:
    if len(commands) > MAX_COMMANDS:
        raise ValueError(f"a batch holds at most {MAX_COMMANDS} commands")
    return {"halt": 1 if halt else 0, "cmd": {k: c.line() for k, c in commands.items()}}


def parse(sent: Iterable[str] | Mapping[str, Command], result: Any) -> BatchResult:
    """Read the `result` of a batch envelope for the commands named in `sent` (their names, or
    the commands by name: then an error names the command's method)."""
    body = result if isinstance(result, Mapping) else {}
    results = _section(body.get("result"))
    totals = {k: int(v) for k, v in _section(body.get("result_total")).items()}
    raw_errors = body.get("result_error")
    if isinstance(raw_errors, list) and raw_errors:
        missing = [k for k in sent if k not in results]
        raw = dict(zip(missing, raw_errors, strict=False))
    else:
        raw = _section(raw_errors)
    methods = {k: c.method for k, c in sent.items()} if isinstance(sent, Mapping) else {}
    errors = {key: _error(methods.get(key), key, value) for key, value in raw.items()}
    return BatchResult(results, errors, totals)


def _section(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):  # PHP printed a 0..n-1 map (or an empty one) as a list
        return {str(n): v for n, v in enumerate(value)}
    return {}


def _error(method: str | None, key: str, value: Any) -> CrmbridgeError:
    body = value if isinstance(value, Mapping) else {}
    code, description = str(body.get("error", "")), str(body.get("error_description", ""))
    if method is None:
        return error(f"batch[{key}]", code, description)
    return error(method, code, description, where=f"batch[{key}] {method}")
