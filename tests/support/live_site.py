"""Run a baked site as Railway does and talk to it over real HTTP (for the security tests).

``prepared_site`` copies a baked project, installs its lock (the cached site venv), creates a
throwaway PostgreSQL database, runs the build command (collectstatic) and the pre-deploy command
(``manage.py deploy``) with production settings. ``serve`` then starts gunicorn with the site's
own ``gunicorn.conf.py`` on a free port and waits until ``/health/live/`` answers.
Requests go to 127.0.0.1 with the headers Railway's edge adds (Host = the public domain,
X-Forwarded-Proto: https), or without the proto header, as plain HTTP reaches the edge.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from combinations import BY_ID, answer, expected_slug
from conftest import (
    CACHE_DIR,
    database_name,
    database_url,
    file_lock,
    manage_database,
    python_for,
    redis_url,
    site_venv,
    tail,
)
from observatory import Response


@dataclass
class Site:
    """A prepared copy of a baked project: where it is, its venv, and its production env."""

    combination_id: str
    project: Path
    python: Path
    slug: str
    domain: str
    env: dict[str, str]
    secrets: list[str] = field(default_factory=list)

    @property
    def settings(self) -> str:
        return f"{self.slug}.settings.production"

    def manage(self, *args: str, extra_env: dict[str, str] | None = None, timeout: int = 600):
        proc = subprocess.run(
            [str(self.python), "manage.py", *args, f"--settings={self.settings}"],
            cwd=self.project,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return proc.returncode, proc.stdout + proc.stderr

    def hide(self, text: str) -> str:
        """Text with every secret of this site replaced, safe to show in a failure message."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def public_domain(slug: str) -> str:
    return f"{slug.replace('_', '-')}-production.up.railway.app"


@contextlib.contextmanager
def prepared_site(get_baked, tmp_path_factory, combination_id: str, tag: str) -> Iterator[Site]:
    """A copy of the baked combination, built and migrated as Railway's build and pre-deploy do.

    ``tag`` keeps this module's database apart from other modules' (and other runs').
    """
    answers = BY_ID[combination_id].answers
    python, _ = python_for(answer(answers, "python_version"))
    baked = get_baked(combination_id)
    project = tmp_path_factory.mktemp(f"{tag}-{combination_id}") / baked.name
    shutil.copytree(baked, project, symlinks=True)
    (project / ".env").unlink(missing_ok=True)  # production reads no .env; keep it out of the way
    venv_python = site_venv(project, python)
    slug = expected_slug(answers)
    name = database_name(f"{combination_id}-{tag}")
    password = secrets.token_hex(16)  # ignored by trust auth; must never show up anywhere
    secret_key = secrets.token_urlsafe(50)
    user_url = database_url(name).replace("://postgres@", f"://postgres:{password}@", 1)
    env = {
        "PATH": f"{venv_python.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": user_url,
        "RAILWAY_PUBLIC_DOMAIN": public_domain(slug),
    }
    if answer(answers, "use_redis"):
        env["REDIS_URL"] = redis_url(combination_id)
    site = Site(
        combination_id,
        project,
        venv_python,
        slug,
        public_domain(slug),
        env,
        [secret_key, password],
    )
    with file_lock(CACHE_DIR / "locks" / f"{name}.lock"):
        manage_database(venv_python, name, "create")
        try:
            for command in (("collectstatic", "--noinput"), ("deploy",)):
                code, output = site.manage(*command)
                assert code == 0, f"{' '.join(command)} exited {code}:\n{tail(site.hide(output))}"
            yield site
        finally:
            manage_database(venv_python, name, "drop")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    site: Site
    port: int
    process: subprocess.Popen
    log: Path

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        https: bool = True,
    ) -> Response:
        """One request as the edge forwards it; the answer as an observatory Response."""
        sent = {"Host": self.site.domain, **(headers or {})}
        if https:
            sent.setdefault("X-Forwarded-Proto", "https")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            content = answer.read().decode("utf-8", "replace")
            raw_headers = answer.getheaders()
        finally:
            connection.close()
        scheme = "https" if https else "http"
        return Response(
            url=f"{scheme}://{sent['Host']}{path}",
            status=answer.status,
            headers=raw_headers,
            body=content,
        )

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def serve(site: Site, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """gunicorn --config gunicorn.conf.py (Railway's start command), stopped on exit."""
    port = free_port()
    log = site.project.parent / f"gunicorn-{port}.log"
    env = {**site.env, "PORT": str(port), **(extra_env or {})}
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [str(site.python.parent / "gunicorn"), "--config", "gunicorn.conf.py"],
            cwd=site.project,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(site, port, process, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"gunicorn exited {process.returncode}:\n{site.hide(server.log_text())}"
                )
            try:
                if server.request("/health/live/", https=False).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer in 90 s:\n{site.hide(server.log_text())}")
            time.sleep(0.3)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
