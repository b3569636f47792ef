"""`python -m bench [NAME ...]`: run the named benchmarks (all by default), update the doc."""

from __future__ import annotations

import sys
from collections.abc import Callable

from bench import bitrix24_backfill, catalog_sync, flows, intake, queue, reconcile
from bench.report import DOC, write_section

BENCHMARKS: dict[str, Callable[[], str]] = {
    "queue": queue.run,
    "bitrix24": bitrix24_backfill.run,
    "catalog": catalog_sync.run,
    "flows": flows.run,
    "reconcile": reconcile.run,
    "intake": intake.run,
}


def main(names: list[str]) -> None:
    for name in names or list(BENCHMARKS):
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
        print(f"running benchmark {name}…", flush=True)
        section = BENCHMARKS[name]()
        write_section(name, section)
        print(section, flush=True)
    print(f"written to {DOC}")


if __name__ == "__main__":
    main(sys.argv[1:])
