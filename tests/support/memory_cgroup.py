"""A hard memory cap for a process tree: a memory cgroup of its own (v2, else v1).

``MemoryCgroup.create(limit)`` makes a cgroup under the machine's memory hierarchy with the limit
set (cgroup v2: ``memory.max``; v1: ``memory.limit_in_bytes``), or returns None where this
machine does not let the tests make one (no hierarchy, or not writable). ``add`` moves a process
in; the processes it forks afterwards (gunicorn's workers) are in it too. ``peak`` is the most
memory the group used (RSS and page cache, as the kernel charges it); ``oom_kills`` how many
processes the kernel killed for the limit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


class MemoryCgroup:
    def __init__(self, path: Path, version: int):
        self.path, self.version = path, version

    @classmethod
    def create(cls, limit: int) -> MemoryCgroup | None:
        """Return a new cgroup capped at ``limit`` bytes, or None if none can be made here."""
        name = f"cfmp-test-{os.getpid()}-{secrets.token_hex(3)}"
        if (ROOT / "cgroup.controllers").exists():
            if "memory" not in (ROOT / "cgroup.subtree_control").read_text().split():
                return None
            candidates = [(ROOT / name, 2, "memory.max")]
        else:
            candidates = [(ROOT / "memory" / name, 1, "memory.limit_in_bytes")]
        for path, version, limit_file in candidates:
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                (path / limit_file).write_text(str(limit))
                if version == 1:
                    # No swap to spill into: the cap is the memory the processes may use.
                    with contextlib.suppress(OSError):
                        (path / "memory.swappiness").write_text("0")
            except OSError:
                path.rmdir()
                continue
            return cls(path, version)
        return None

    @property
    def description(self) -> str:
        return f"cgroup v{self.version} {self.path}"

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def limit(self) -> int:
        name = "memory.max" if self.version == 2 else "memory.limit_in_bytes"
        return int((self.path / name).read_text())

    def peak(self) -> int:
        """Return the most bytes the group has used since it was made."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        return int((self.path / name).read_text())

    def oom_kills(self) -> int:
        """Return how many of the group's processes the kernel killed for the limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        for line in (self.path / name).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def close(self) -> None:
        """Remove the group once its processes have ended."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)
