"""Bake time, baked lock sizes, and the time to install a site with each package manager.

    .venv/bin/python -m bench.install

Bakes the default site (uv) and the same answers with ``package_manager=pip``, then installs
each one's production lock into a new venv from an empty download cache, as Railpack does: uv's
two ``uv sync --locked --no-dev`` steps (tests.support.venvs.build_venv, with UV_CACHE_DIR set to
an empty folder), and ``pip install -r requirements.txt`` (pip, ``--no-cache-dir``). Needs the
package registry. Prints one table; the figures compare rows of one run on one machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.baking import bake_into
from tests.support.combinations import TEMPLATE_DIR
from tests.support.venvs import build_venv, python_for

PYTHON_VERSION = "3.12"


def timed(step) -> tuple[float, object]:
    started = time.monotonic()
    result = step()
    return time.monotonic() - started, result


def pip_install(project: Path, python: str, venv: Path) -> None:
    """Install requirements.txt the way Railpack's pip path does, from no cache."""
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--no-cache-dir",
         "--disable-pip-version-check", "-r", "requirements.txt"],
        cwd=project, check=True, timeout=1800,
    )  # fmt: skip


def main() -> int:
    python, fell_back = python_for(PYTHON_VERSION)
    if fell_back:
        print(f"Python {PYTHON_VERSION} not found; using {python}", file=sys.stderr)
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="cfmp-install-bench-") as tmp:
        work = Path(tmp)
        sites = {}
        for manager in ("uv", "pip"):
            out = work / f"bake-{manager}"
            seconds, project = timed(
                lambda out=out, manager=manager: bake_into(out, {"package_manager": manager})
            )
            sites[manager] = Path(project)
            rows.append((f"bake ({manager})", f"{seconds:.1f} s"))
        for name in ("uv.lock",):
            size = (sites["uv"] / name).stat().st_size
            rows.append((f"baked {name} (uv)", f"{size / 1024:.0f} KiB"))
        for name in ("requirements.txt", "requirements-dev.txt"):
            size = (sites["pip"] / name).stat().st_size
            rows.append((f"baked {name} (pip)", f"{size / 1024:.0f} KiB"))
        for name in ("uv.lock", "requirements.txt", "requirements-dev.txt"):
            size = (TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / name).stat().st_size
            rows.append((f"template {name} (every combination)", f"{size / 1024:.0f} KiB"))

        os.environ["UV_CACHE_DIR"] = str(work / "uv-cache-empty")
        seconds, _ = timed(lambda: build_venv(sites["uv"], python, "requirements.txt", work))
        rows.append(("install, empty cache: uv sync --locked --no-dev (x2)", f"{seconds:.1f} s"))
        seconds, _ = timed(lambda: pip_install(sites["pip"], python, work / "pip-venv"))
        rows.append(("install, empty cache: pip install -r requirements.txt", f"{seconds:.1f} s"))
    width = max(len(label) for label, _ in rows)
    print(f"{'what':<{width}}  figure")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
