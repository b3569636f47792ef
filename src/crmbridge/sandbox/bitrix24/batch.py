"""`batch`: up to 50 sub-calls given as `method?query` strings, run in order, one HTTP request.

From `bitrix24/b24restdocs:settings/how-to-call-rest-api/batch.md` and the recorded responses
in `leshchenko1979/fast_bitrix24:tests/real_responses` (`call_single_success.py`,
`batch_list_empty.py`, `crm_get_batch_of_two_error.py`): always HTTP 200, failures in
`result_error`, empty sections printed as `[]`, numeric keys collapsing into lists,
`$result[key][field]` references to earlier results, `halt=1` stopping at the first failure.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote

from crmbridge.clock import Clock
from crmbridge.sandbox.bitrix24.dispatch import Reply
from crmbridge.sandbox.bitrix24.wire import (
    RestError,
    param,
    parse_php_query,
    php_array,
    time_block,
    to_int,
)

MAX_COMMANDS = 50
_REFERENCE = re.compile(r"\$result\[([^\]]+)\]((?:\[[^\]]*\])*)")

Call = Callable[[str, dict[str, Any]], Reply]


def _commands(cmd: Any) -> dict[str, str]:
    if isinstance(cmd, list):
        return {str(i): str(c) for i, c in enumerate(cmd)}
    if isinstance(cmd, dict):
        return {str(k): str(v) for k, v in cmd.items()}
    return {}


def _resolve(match: re.Match[str], results: dict[str, Any]) -> str:
    if match.group(1) not in results:
        return match.group(0)  # a reference to a failed or unknown command stays as written
    value: Any = results[match.group(1)]
    for part in re.findall(r"\[([^\]]*)\]", match.group(2)):
        if isinstance(value, list) and (index := to_int(part)) is not None and index < len(value):
            value = value[index]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return quote(str(value), safe="") if value is not None else ""


def _parse(line: str, results: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    method, _, query = line.partition("?")
    query = _REFERENCE.sub(lambda m: _resolve(m, results), query)
    return method.strip(), parse_php_query(parse_qsl(query, keep_blank_values=True))


def run(call: Call, clock: Clock, params: dict[str, Any]) -> Reply:
    halt = (to_int(param(params, "halt")) or 0) != 0
    sections: dict[str, dict[str, Any]] = {
        "result": {},
        "result_error": {},
        "result_total": {},
        "result_next": {},
        "result_time": {},
    }
    for n, (key, line) in enumerate(_commands(param(params, "cmd")).items()):
        if n >= MAX_COMMANDS:
            error = RestError("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
            sections["result_error"][key] = error.body()
            continue
        if not _one(call, clock, key, line, sections) and halt:
            break
    out: dict[str, Any] = {name: php_array(section) for name, section in sections.items()}
    if sections["result_error"] and all(k.isdigit() for k in sections["result_error"]):
        # Recorded quirk (crm_get_batch_mix_success_and_errors.py): with numeric keys the portal
        # re-indexes the errors into a plain list whose positions no longer name the commands.
        out["result_error"] = list(sections["result_error"].values())
    return Reply(out)


def _one(call: Call, clock: Clock, key: str, line: str, sections: dict[str, Any]) -> bool:
    started, t0 = clock.now(), time.perf_counter()
    method, sub_params = _parse(line, sections["result"])
    try:
        if method.lower() == "batch":
            raise RestError(
                "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage", 405
            )
        reply = call(method, sub_params)
    except RestError as error:
        sections["result_error"][key] = error.body()
        return False
    sections["result"][key] = reply.result
    if reply.total is not None:
        sections["result_total"][key] = reply.total
    if reply.next is not None:
        sections["result_next"][key] = reply.next
    sections["result_time"][key] = time_block(started, time.perf_counter() - t0)
    return True
