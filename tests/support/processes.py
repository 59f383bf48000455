"""Processes, ports, file locks and log text: the plumbing every runner in the tests shares.

``CACHE_DIR`` (``$CFMP_TEST_CACHE``, else ``~/.cache/cfmp-railway``) holds what outlives a test
session: the site venvs and the lock files that let sessions side by side take turns.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

CACHE_DIR = Path(os.environ.get("CFMP_TEST_CACHE", Path.home() / ".cache" / "cfmp-railway"))
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Return the path of a command-line tool installed next to the running Python (ruff, ...).

    Falls back to PATH; a missing tool fails the test with the command that installs it.
    """
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        import pytest

        pytest.fail(f"{name} is not installed: pip install -r requirements-dev.txt")
    return found


def tail(text: str, limit: int = 3000) -> str:
    """Return the end of ``text``, short enough for a failure message."""
    return text if len(text) <= limit else "...\n" + text[-limit:]


def redact(text: str, hidden: Iterable[str]) -> str:
    """Return ``text`` with every secret replaced by ***, so it can go into a failure message."""
    for secret in sorted((s for s in hidden if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed) for the block.

    Test sessions on one machine take turns on what they share this way (a venv being built, a
    database name).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def kill_group(proc: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` to the process group of ``proc`` (started with start_new_session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


@contextlib.contextmanager
def process_group(args: list[str], **popen: Any) -> Iterator[subprocess.Popen]:
    """A process in its own session, whose whole group is killed when the block ends."""
    proc = subprocess.Popen(args, start_new_session=True, **popen)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            kill_group(proc, signal.SIGKILL)
            proc.wait(timeout=10)
