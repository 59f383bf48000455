"""Where the template suite's time goes: wall and CPU per work unit, from one pytest run.

Record (a pytest plugin: every test's wall time and the CPU its worker and the processes it
waited for used meanwhile, one JSON line per test in CFMP_SUITE_CPU_DIR, one file per xdist
worker), then print the table, biggest CPU first::

    CFMP_SUITE_CPU_DIR=/tmp/suite-cpu .venv/bin/python -m pytest -p bench.suite_cpu
    .venv/bin/python -m bench.suite_cpu /tmp/suite-cpu

A unit is a module, or one combination of a module the scheduler splits by combination
(tests/support/scheduling.py). CPU of processes a test leaves running (a server a session
fixture started) is counted when they are waited for, by whichever test that is.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.support.scheduling import work_unit


def used_cpu() -> float:
    """Return the CPU seconds (user + system) of this process and the children it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Record one test's start, end and CPU (set-up and teardown included)."""
    folder = os.environ.get("CFMP_SUITE_CPU_DIR")
    started, cpu = time.time(), used_cpu()
    yield
    if not folder:
        return
    record = {
        "id": item.nodeid,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "start": started,
        "end": time.time(),
        "cpu": used_cpu() - cpu,
    }
    Path(folder).mkdir(parents=True, exist_ok=True)
    worker_file = Path(folder) / f"{record['worker']}.jsonl"
    with worker_file.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def table(records: list[dict], rows: int) -> str:
    """Return the Markdown table of the ``rows`` units that used the most CPU, and the totals."""
    first = min(r["start"] for r in records)
    units: dict[str, dict] = defaultdict(lambda: {"wall": 0.0, "cpu": 0.0, "tests": 0})
    for record in records:
        unit = units[work_unit(record["id"])]
        unit["wall"] += record["end"] - record["start"]
        unit["cpu"] += record["cpu"]
        unit["tests"] += 1
        unit["from"] = min(unit.get("from", record["start"]), record["start"])
        unit["to"] = max(unit.get("to", record["end"]), record["end"])
        unit["worker"] = record["worker"]
    total_cpu = sum(unit["cpu"] for unit in units.values())
    span = max(r["end"] for r in records) - first
    lines = [
        "| unit | tests | wall s | CPU s | share of CPU | ran (s from start) |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for name, unit in sorted(units.items(), key=lambda item: -item[1]["cpu"])[:rows]:
        lines.append(
            f"| `{name}` | {unit['tests']} | {unit['wall']:.0f} | {unit['cpu']:.0f} | "
            f"{unit['cpu'] / total_cpu:.1%} | {unit['from'] - first:.0f}-{unit['to'] - first:.0f} "
            f"({unit['worker']}) |"
        )
    lines.append(
        f"\n{len(records)} tests in {len(units)} units: {span:.0f} s from the first test's start "
        f"to the last one's end, {total_cpu:.0f} s CPU"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the CFMP_SUITE_CPU_DIR of the run")
    parser.add_argument("--rows", type=int, default=25, help="units to show (default 25)")
    args = parser.parse_args(argv)
    files = sorted(args.folder.glob("*.jsonl"))
    if not files:
        print(f"no records in {args.folder}: run pytest with -p bench.suite_cpu and "
              "CFMP_SUITE_CPU_DIR set to it first", file=sys.stderr)  # fmt: skip
        return 1
    records = [json.loads(line) for path in files for line in path.read_text().splitlines()]
    print(table(records, args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
