"""A TLS edge in front of a running replica: Debian's HAProxy with a self-signed certificate.

Railway's edge ends TLS (HTTP/2 and HTTP/1.1) and forwards plain HTTP with X-Forwarded-Proto:
https. ``tls_edge`` does the same on this machine, so a browser can load the site over HTTPS
under its public domain: ``openssl`` makes a throwaway certificate for the domain, and HAProxy
listens on a free port of 127.0.0.1. A browser reaches it with
``--host-resolver-rules=MAP <domain>:443 127.0.0.1:<port>`` and trusts the certificate only
through ``--ignore-certificate-errors``.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import free_port, process_group, tail

#: How long the edge may take to accept a TLS handshake once started.
EDGE_START_TIMEOUT = 15.0
#: Sent to the replica as the client's address (what Railway's edge puts in X-Forwarded-For).
CLIENT_ADDRESS = "203.0.113.7"

HAPROXY_CONFIG = """\
global
    maxconn 256

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend edge
    bind 127.0.0.1:{port} ssl crt {pem} alpn h2,http/1.1
    http-request set-header X-Forwarded-Proto https
    http-request set-header X-Forwarded-For {client}
    http-request set-header X-Real-IP {client}
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    default_backend replica

backend replica
    server replica 127.0.0.1:{upstream}
"""


@dataclass
class TlsEdge:
    """A running edge: the domain it answers for and its port on 127.0.0.1."""

    domain: str
    port: int

    @property
    def resolver_rule(self) -> str:
        """Return the Chromium host rule that sends https://<domain>/ to this edge."""
        return f"MAP {self.domain}:443 127.0.0.1:{self.port}"


def need(command: str) -> str:
    """Return the path of a Debian tool the edge needs; raise naming the package if missing."""
    found = shutil.which(command)
    if found is None:
        raise RuntimeError(f"{command} is missing: apt-get install {command}")
    return found


def self_signed_certificate(domain: str, folder: Path) -> Path:
    """Write a one-day certificate and key for ``domain`` in one PEM file; return its path."""
    key, cert, pem = folder / "edge.key", folder / "edge.crt", folder / "edge.pem"
    proc = subprocess.run(
        [need("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", f"/CN={domain}",
         "-addext", f"subjectAltName=DNS:{domain}", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"openssl req failed:\n{tail(proc.stdout + proc.stderr)}")
    pem.write_text(cert.read_text() + key.read_text())
    return pem


def handshake(port: int, domain: str) -> bool:
    """Return whether a TLS handshake (certificate not checked) with the edge succeeds."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=2) as raw,
            context.wrap_socket(raw, server_hostname=domain),
        ):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def tls_edge(domain: str, upstream_port: int, folder: Path) -> Iterator[TlsEdge]:
    """Run HAProxy ending TLS for ``domain`` in front of 127.0.0.1:``upstream_port``.

    ``folder`` keeps the certificate, the configuration and HAProxy's log. The edge is stopped
    when the block ends.
    """
    folder.mkdir(parents=True, exist_ok=True)
    pem = self_signed_certificate(domain, folder)
    port = free_port()
    config = folder / "haproxy.cfg"
    config.write_text(
        HAPROXY_CONFIG.format(port=port, pem=pem, upstream=upstream_port, client=CLIENT_ADDRESS)
    )
    log = folder / "haproxy.log"
    with (
        open(log, "wb") as output,
        process_group(
            [need("haproxy"), "-db", "-f", str(config)], stdout=output, stderr=subprocess.STDOUT
        ) as proc,
    ):
        deadline = time.monotonic() + EDGE_START_TIMEOUT
        while not handshake(port, domain):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"HAProxy did not accept TLS on 127.0.0.1:{port} within "
                    f"{EDGE_START_TIMEOUT} s:\n{tail(log.read_text(errors='replace'))}"
                )
            time.sleep(0.1)
        yield TlsEdge(domain, port)
