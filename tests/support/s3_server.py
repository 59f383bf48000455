"""A real S3 API on loopback: moto's standalone server, one process per test session.

Railway Storage Buckets speak the S3 API; the tests give a ``media_storage=bucket`` site a bucket
on this server, under the variable names a Railway bucket gives its services by reference
(``bucket_variables``). The server starts on first use on a free port and is killed when the
session's process exits. Its buckets live in memory only.
"""

from __future__ import annotations

import atexit
import secrets
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from tests.support.processes import free_port, kill_group, tail, tool

#: The region the variables carry. Railway's buckets say "auto"; moto wants a real region name.
REGION = "us-east-1"
START_TIMEOUT = 30.0


@dataclass
class S3Server:
    """A running moto server and the buckets made on it."""

    process: subprocess.Popen
    endpoint: str
    #: Secrets handed out (secret access keys), to keep out of failure messages.
    secrets: list[str] = field(default_factory=list)

    def client(self, access_key: str = "admin", secret_key: str = "admin"):  # noqa: S107
        """Return a boto3 S3 client for this server (path-style addressing)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=10),
        )

    def create_bucket(self, prefix: str) -> dict[str, str]:
        """Create a new, empty bucket; return the variables a Railway bucket gives a service."""
        name = f"{prefix.lower().replace('_', '-')[:40]}-{secrets.token_hex(4)}"
        access_key = "AK" + secrets.token_hex(9).upper()
        secret_key = secrets.token_urlsafe(30)
        self.secrets.append(secret_key)
        self.client(access_key, secret_key).create_bucket(Bucket=name)
        return {
            "BUCKET": name,
            "ACCESS_KEY_ID": access_key,
            "SECRET_ACCESS_KEY": secret_key,
            "REGION": REGION,
            "ENDPOINT": self.endpoint,
        }

    def keys(self, bucket: str) -> list[str]:
        """Return the keys of every object in ``bucket``."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def stop(self) -> None:
        """Kill the server's process group."""
        if self.process.poll() is None:
            kill_group(self.process, signal.SIGKILL)
            self.process.wait(timeout=10)


_server: S3Server | None = None


def s3_server() -> S3Server:
    """Return this session's S3 server, starting it on first use."""
    global _server
    if _server is not None and _server.process.poll() is None:
        return _server
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the server writes it as long as it runs
    process = subprocess.Popen(
        [tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = S3Server(process, f"http://127.0.0.1:{port}")
    atexit.register(server.stop)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode("utf-8", "replace")
            raise AssertionError(f"moto_server exited {process.returncode}:\n{tail(output)}")
        try:
            with urllib.request.urlopen(f"{server.endpoint}/moto-api/", timeout=2):  # noqa: S310
                break
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                server.stop()
                raise AssertionError(
                    f"moto_server did not answer in {START_TIMEOUT:.0f} s"
                ) from None
            time.sleep(0.1)
    _server = server
    return server


def bucket_variables(prefix: str) -> dict[str, str]:
    """Return a new bucket's Railway variables (BUCKET, ACCESS_KEY_ID, ..., ENDPOINT)."""
    return s3_server().create_bucket(prefix)
