"""Python interpreters and the one builder of the baked site's virtual environments.

Every venv a test or the benchmark needs comes from ``build_venv``: the site's dev lock for its
own test suite and the live-site tests, the production lock alone where a test installs what
Railway's builder installs. ``uv`` (requirements-dev.txt) creates and fills them; its download
cache makes the second venv of a lock a matter of seconds.

A site has one of two package managers (the ``package_manager`` answer), and the venv is
installed the way that site's own README and Railpack install it:

* pip sites (``requirements.txt``): ``uv pip install --require-hashes -r <lock>``, as the README
  asks of pip (Railpack runs ``pip install -r requirements.txt``).
* uv sites (``pyproject.toml`` and ``uv.lock``, no requirements file): ``uv sync --locked``, the
  dev group included, with uv's defaults for the dev lock (as ``make install``); for the
  production lock exactly what Railpack's Python provider runs, ``uv sync --locked --no-dev
  --no-install-project`` and then ``uv sync --locked --no-dev --no-editable``, with its
  settings (bytecode compiled, files copied, no Python downloads).

The lock names keep their pip meaning: "requirements-dev.txt" is the dev lock, "requirements.txt"
the production one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.processes import CACHE_DIR, file_lock, tail, tool

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv"))
#: Written into a venv once its lock is installed; a venv without it is built again.
INSTALLED_MARKER = ".cfmp-installed"


class VenvError(RuntimeError):
    """A venv could not be created or its lock not installed (the message has the output)."""


def python_for(version: str) -> tuple[str, bool]:
    """Return (interpreter, fell_back): pyenv's Python ``version`` ("3.12"), else this one."""
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
    """Return the full version ("3.12.1") of the interpreter at ``python``."""
    out = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip()


_REQUIREMENT_INCLUDE = re.compile(r"^\s*-(?:r|c|-requirement|-constraint)[\s=]+(\S+)", re.MULTILINE)


def lock_text(project: Path, name: str = "requirements-dev.txt", _seen=None) -> str:
    """Return the requirements file and every file it includes (-r/-c), concatenated.

    requirements-dev.txt says ``-r requirements.txt``, and requirements.txt differs between
    answers (sentry-sdk, redis), so a venv's cache key must cover the included files too.
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


PRODUCTION_LOCK = "requirements.txt"
#: What Railpack's Python provider runs for a uv project (core/providers/python/python.go):
#: the install step, then the build step's sync, in a venv of its own (VIRTUAL_ENV=/app/.venv).
RAILPACK_UV_SYNC = (
    ("sync", "--locked", "--no-dev", "--no-install-project"),
    ("sync", "--locked", "--no-dev", "--no-editable"),
)
#: The environment Railpack's install step gives uv.
RAILPACK_UV_ENV = {
    "UV_COMPILE_BYTECODE": "1",
    "UV_LINK_MODE": "copy",
    "UV_PYTHON_DOWNLOADS": "never",
}


def uses_uv(project: Path, requirements: str = PRODUCTION_LOCK) -> bool:
    """Return whether the project installs with uv: a uv.lock and no requirements file."""
    return (project / "uv.lock").is_file() and not (project / requirements).is_file()


def install_text(project: Path, requirements: str) -> str:
    """Return what decides a venv's contents: the lock files (and, for uv, dev or not)."""
    if not uses_uv(project, requirements):
        return lock_text(project, requirements)
    group = "production" if requirements == PRODUCTION_LOCK else "dev"
    return (
        "".join(
            f"# file: {name}\n{(project / name).read_text(encoding='utf-8')}\n"
            for name in ("pyproject.toml", "uv.lock")
        )
        + f"# uv sync: {group}\n"
    )


def install_steps(
    project: Path, python: str, venv: Path, requirements: str, hashed: bool
) -> tuple[list[list[str]], dict[str, str]]:
    """Return the commands that fill ``venv`` from the project's lock, and their environment."""
    uv = tool("uv")
    venv_python = str(venv / "bin" / "python")
    if uses_uv(project, requirements):
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
        env.pop("VIRTUAL_ENV", None)
        if requirements == PRODUCTION_LOCK:
            env.update(RAILPACK_UV_ENV)
            syncs = [list(step) for step in RAILPACK_UV_SYNC]
        else:
            # The README's `make install`: uv's own defaults (files linked from its cache, modules
            # compiled when first imported); only never a Python download.
            env["UV_PYTHON_DOWNLOADS"] = "never"
            syncs = [["sync", "--locked"]]
        return [[uv, *step, "--quiet", "--python", python] for step in syncs], env
    return [
        [uv, "venv", "--quiet", "--python", python, str(venv)],
        [
            uv, "pip", "install", "--quiet", "--python", venv_python,
            *(["--require-hashes"] if hashed else []), "--requirement", requirements,
        ],
    ], dict(os.environ)  # fmt: skip


def venv_path(
    project: Path,
    python: str,
    requirements: str = "requirements-dev.txt",
    root: Path | None = None,
    extra: tuple[str, ...] = (),
) -> Path:
    """Return where ``build_venv`` puts the venv for this interpreter, lock and extras.

    The folder is named for the Python version and a digest of the interpreter's path and what
    is installed, so every project with the same lock shares one venv.
    """
    version = python_version_of(python)
    text = install_text(project, requirements) + "".join(f"\n{name}" for name in extra)
    digest = hashlib.sha256(f"{os.path.realpath(python)}\n{text}".encode()).hexdigest()[:12]
    return (root or CACHE_DIR / "venvs") / f"{version}-{digest}"


def build_venv(
    project: Path,
    python: str,
    requirements: str = "requirements-dev.txt",
    root: Path | None = None,
    *,
    hashed: bool = True,
    extra: tuple[str, ...] = (),
) -> Path:
    """Return the python of a venv for ``python`` with the project's hashed lock installed.

    ``requirements`` names the lock in the project (requirements-dev.txt includes
    requirements.txt; for a uv site, the dev or the production sync of uv.lock). The venv
    lives under ``root`` (default: CACHE_DIR/venvs, kept across sessions), is built at most once
    at a time (a file lock), and is reused only when the marker written after a successful
    install is present. Raises VenvError when a step fails.

    The benchmark also installs requirements without hashes (``hashed=False``: the brief's
    pins as it wrote them) and pinned ``extra`` packages after the lock.
    """
    venv = venv_path(project, python, requirements, root, extra)
    venv_python = venv / "bin" / "python"
    marker = venv / INSTALLED_MARKER
    with file_lock(venv.with_name(venv.name + ".lock")):
        if marker.exists() and venv_python.exists():
            return venv_python
        shutil.rmtree(venv, ignore_errors=True)
        steps, env = install_steps(project, python, venv, requirements, hashed)
        if extra:
            uv = tool("uv")
            steps.append([uv, "pip", "install", "--quiet", "--python", str(venv_python), *extra])
        for step in steps:
            proc = subprocess.run(
                step,
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=1200,
                check=False,
            )
            if proc.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                raise VenvError(
                    f"building the venv failed ({' '.join(step)}), exit {proc.returncode}:\n"
                    + tail(proc.stdout + proc.stderr)
                )
        marker.write_text(install_text(project, requirements) + "\n".join(extra), encoding="utf-8")
    return venv_python
