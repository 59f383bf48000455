"""Railway's edge as a real reverse proxy: HAProxy (Debian's package) on loopback.

The edge ends TLS and forwards plain HTTP to the active deployment with the public Host and
X-Forwarded-Proto: https. ``EdgeProxy`` runs HAProxy in the foreground on a free port with one
backend of two server slots ("blue" and "green"), and a runtime socket in the test's folder:
``switch_to`` points the idle slot at a new release's port, puts it in service and takes the old
slot out of rotation ("maint"), as Railway's edge moves to a new deployment once its healthcheck
passes. Requests already on the old release carry on to the end; new ones go to the new release.
More replicas of one release join blue in the rotation (round-robin, as Railway spreads requests
over replicas). Each answer says which server gave it, in ``X-Served-By``.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support.processes import free_port, kill_group, tail

BACKEND = "release"
SLOTS = ("blue", "green")


def haproxy_config(port: int, runtime_socket: Path, first_port: int, replicas: list[int]) -> str:
    """Return HAProxy's configuration: the edge on ``port``, the first release in slot blue.

    ``replicas`` are the ports of the first release's other replicas.
    """
    more = "".join(
        f"    server replica-{n} 127.0.0.1:{replica}\n" for n, replica in enumerate(replicas, 2)
    )
    return f"""\
global
    stats socket {runtime_socket} mode 600 level admin
    maxconn 2000

defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s

frontend edge
    bind 127.0.0.1:{port}
    # What Railway's edge adds: the client's address and the scheme it ended TLS for.
    option forwardfor
    http-request set-header X-Forwarded-Proto https
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request set-header X-Real-IP %[src]
    http-response set-header X-Served-By %[srv_name]
    default_backend {BACKEND}

backend {BACKEND}
    balance roundrobin
    server blue 127.0.0.1:{first_port}
    server green 127.0.0.1:{first_port} disabled
{more}"""


class EdgeProxy:
    """HAProxy in front of the releases of one service; ``port`` is the public side."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.runtime_socket = workdir / "haproxy.sock"
        self.config = workdir / "haproxy.cfg"
        self.log = workdir / "haproxy.log"
        self.proc: subprocess.Popen | None = None
        self.active = SLOTS[0]

    def start(self, first_port: int, *replicas: int) -> EdgeProxy:
        """Start HAProxy with the first release (``replicas``: its other replicas' ports)."""
        haproxy = shutil.which("haproxy") or (
            "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
        )
        if haproxy is None:
            raise AssertionError("haproxy is not installed (Debian: apt-get install haproxy)")
        self.config.write_text(
            haproxy_config(self.port, self.runtime_socket, first_port, list(replicas)),
            encoding="utf-8",
        )
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [haproxy, "-db", "-f", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"haproxy exited {self.proc.returncode}:\n{self.log_text()}")
            with contextlib.suppress(OSError):
                self.command("show info")
                return self
            time.sleep(0.05)
        raise AssertionError(f"haproxy did not answer on its runtime socket:\n{self.log_text()}")

    def command(self, line: str) -> str:
        """Send one command to HAProxy's runtime API; return its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(5)
            client.connect(str(self.runtime_socket))
            client.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := client.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def switch_to(self, port: int) -> None:
        """Send every new request to the release on ``port``; the old one gets none."""
        idle = SLOTS[1] if self.active == SLOTS[0] else SLOTS[0]
        for line in (
            f"set server {BACKEND}/{idle} addr 127.0.0.1 port {port}",
            f"set server {BACKEND}/{idle} state ready",
            f"set server {BACKEND}/{self.active} state maint",
        ):
            answer = self.command(line).strip()
            # HAProxy answers an accepted change with nothing or a note of what changed.
            if answer and "changed" not in answer:
                raise AssertionError(f"haproxy refused {line!r}: {answer}")
        self.active = idle

    def servers(self) -> str:
        """Return the backend's servers as HAProxy sees them (for failure messages)."""
        return self.command(f"show servers state {BACKEND}")

    def log_text(self) -> str:
        return tail(self.log.read_text(errors="replace")) if self.log.exists() else ""

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            kill_group(self.proc, signal.SIGTERM)
            self.proc.wait(timeout=10)
