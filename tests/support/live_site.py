"""Run a baked site as Railway does and talk to it over real HTTP.

This is the one way the tests run a baked site on the shared PostgreSQL: a thin layer over the
emulator (``railway_emulator``), which reads the build, pre-deploy and start commands from the
site's own Railway configuration.

``prepared_site`` copies a baked project, installs its dev lock (the cached site venv), creates a
throwaway PostgreSQL database, and runs the build and pre-deploy commands in a ``Deployment``
with the variables Railway would give the service. ``serve`` starts the start command as one
replica (an ``Instance``) on a free port and waits until ``/health/live/`` answers.
``Server.request`` sends what Railway's edge forwards (``Edge``: Host = the public domain,
X-Forwarded-Proto: https, or without the proto header, as plain HTTP reaches the edge) and
returns an Observatory ``Response``. ``Site.login`` logs in to the admin as a browser does.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.admin_path import admin_path
from tests.support.combinations import BY_ID, answer, expected_slug
from tests.support.databases import database_name, database_url, manage_database, redis_url
from tests.support.observatory import Response
from tests.support.processes import CACHE_DIR, file_lock, redact, tail
from tests.support.railway_emulator import (
    Deployment,
    Edge,
    Instance,
    RailwayConfig,
    Reply,
    railway_variables,
    read_config,
    service_variables,
)
from tests.support.s3_server import bucket_variables, s3_server
from tests.support.totp import totp
from tests.support.venvs import build_venv, python_for

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')
#: How long a test waits for a started replica to answer /health/live/.
START_TIMEOUT = 90


@dataclass
class Login:
    """The two answers of an admin login: the form (and its CSRF cookie), then the post."""

    form: Reply
    answer: Reply


@dataclass
class Site:
    """A copy of a baked project deployed on the emulated Railway.

    ``deployment`` holds its image folder, venv, variables and replicas; ``database`` is the name
    of its database on whichever PostgreSQL the deployment's DATABASE_URL points at.
    """

    combination_id: str
    answers: dict[str, Any]
    deployment: Deployment
    slug: str
    domain: str
    database: str
    #: username -> base32 TOTP secret, for sites with two-factor sign-in (create_superuser).
    totp_secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def project(self) -> Path:
        return self.deployment.image

    @property
    def admin(self) -> str:
        """Return the admin's path: the one drawn for this bake (DJANGO_ADMIN_URL is unset)."""
        return admin_path(self.project, self.slug)

    def at(self, path: str) -> str:
        """Return ``path`` with ``{admin}`` replaced by the admin's path (``/staff-.../``)."""
        return path.format(admin=self.admin)

    @property
    def python(self) -> Path:
        return self.deployment.bin_dir / "python"

    @property
    def config(self) -> RailwayConfig:
        return self.deployment.config

    @property
    def settings(self) -> str:
        return f"{self.slug}.settings.production"

    @property
    def secrets(self) -> list[str]:
        """Every secret of this site (appended to by tests that make new ones)."""
        return self.deployment.secrets

    @property
    def env(self) -> dict[str, str]:
        """The environment of a one-off command in the image (``railway run``)."""
        return self.deployment.environment(PORT=None, RAILWAY_REPLICA_ID=None)

    def run(
        self, *args: str, extra_env: dict[str, str] | None = None, timeout: int = 600
    ) -> tuple[int, str]:
        """Run the site's python with ``args`` in the image; return (exit status, output)."""
        try:
            proc = subprocess.run(
                [str(self.python), *args],
                cwd=self.project,
                env={**self.env, **(extra_env or {})},
                check=False,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            output = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode()
            pytest.fail(f"{' '.join(args)} timed out after {timeout} s:\n{self.show(output)}")
        return proc.returncode, proc.stdout

    def manage(
        self, *args: str, extra_env: dict[str, str] | None = None, timeout: int = 600
    ) -> tuple[int, str]:
        """Run ``manage.py`` with the production settings; return (exit status, output)."""
        return self.run(
            "manage.py", *args, f"--settings={self.settings}", extra_env=extra_env, timeout=timeout
        )

    def hide(self, text: str) -> str:
        """Return ``text`` with every secret of this site replaced, safe for a failure message."""
        return redact(text, self.secrets)

    def show(self, text: str) -> str:
        """Return the end of ``text`` with the secrets hidden."""
        return tail(self.hide(text))

    def edge(self) -> Edge:
        """Return a new browser-like client of the public domain (an empty cookie jar)."""
        return Edge(self.domain)

    def create_superuser(self, username: str) -> str:
        """Create an admin user with a new random password (registered as a secret); return it."""
        password = secrets.token_urlsafe(18)
        self.secrets.append(password)
        code, output = self.manage(
            "createsuperuser",
            "--noinput",
            extra_env={
                "DJANGO_SUPERUSER_USERNAME": username,
                "DJANGO_SUPERUSER_EMAIL": f"{username}@example.org",
                "DJANGO_SUPERUSER_PASSWORD": password,
            },
        )
        assert code == 0, f"createsuperuser {username} exited {code}:\n{self.show(output)}"
        if answer(self.answers, "admin_two_factor"):
            code, output = self.manage("enroll_two_factor", username, "--no-qr")
            found = re.search(r"^secret: ([A-Z2-7]+)$", output, re.M)
            assert code == 0 and found, f"enroll_two_factor exited {code}:\n{self.show(output)}"
            self.secrets.append(found[1])
            self.totp_secrets[username] = found[1]
        return password

    def login(
        self,
        edge: Edge,
        username: str,
        password: str,
        *,
        form_from: Instance,
        post_to: Instance | None = None,
        timeout: float = 10.0,
    ) -> Login:
        """Fetch the admin login form through ``edge`` and post it; return both answers.

        The form comes from ``form_from`` and goes to ``post_to`` (default: the same replica),
        with the Origin and Referer a browser sends. The answer is not checked: a test decides
        whether the login had to work (302 to the admin) or fail.
        """
        admin = self.admin
        path = f"{admin}login/?next={admin}"
        form = edge.request(form_from, path, timeout=timeout)
        assert form.status == 200, f"login form answered {form.status}:\n{self.show(form.text)}"
        token = CSRF_FIELD.search(form.text)
        assert token, "no CSRF token in the login form"
        posted = edge.request(
            post_to or form_from,
            path,
            method="POST",
            headers={"Origin": edge.origin, "Referer": edge.origin + path},
            form={
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "password": password,
                "next": admin,
                **self.otp_field(username),
            },
            timeout=timeout,
        )
        return Login(form, posted)

    def otp_field(self, username: str) -> dict[str, str]:
        """Return the login form's code field for a user with a TOTP device (else nothing)."""
        secret = self.totp_secrets.get(username)
        return {"otp_token": totp(secret)} if secret else {}


def public_domain(slug: str) -> str:
    """Return the domain Railway gives the service (``<name>-production.up.railway.app``)."""
    return f"{slug.replace('_', '-')}-production.up.railway.app"


def railway_deployment(
    combination_id: str,
    project: Path,
    bin_dir: Path,
    workdir: Path,
    *,
    database_url: str,
    secret_key: str,
    hidden: list[str],
) -> Deployment:
    """Return a Deployment of ``project`` with the variables Railway gives its web service.

    The commands and the service's own variables come from the site's Railway configuration;
    references to PostgreSQL resolve to ``database_url`` (and to the combination's Redis
    database when the site uses Redis). ``hidden`` lists the secrets a message must not show.
    """
    answers = BY_ID[combination_id].answers
    service = answer(answers, "railway_service_name")
    config = read_config(project, service)
    use_redis = answer(answers, "use_redis")
    bucket = None
    if answer(answers, "media_storage") == "bucket":
        bucket = bucket_variables(combination_id)
        hidden = [*hidden, bucket["SECRET_ACCESS_KEY"]]
    variables = service_variables(
        config,
        database_url=database_url,
        secret_key=secret_key,
        redis_url=redis_url(combination_id) if use_redis else None,
        bucket=bucket,
    )
    if bucket:
        # moto's server answers on 127.0.0.1, where bucket.host names do not resolve: the user
        # sets this for an older Railway bucket the same way.
        variables["AWS_S3_ADDRESSING_STYLE"] = "path"
    domain = public_domain(expected_slug(answers))
    variables.update(railway_variables(service, domain, secrets.token_hex(16)))
    return Deployment(
        name=combination_id,
        image=project,
        bin_dir=bin_dir,
        config=config,
        variables=variables,
        workdir=workdir,
        secrets=hidden,
    )


@contextlib.contextmanager
def prepared_site(
    get_baked, tmp_path_factory, combination_id: str, tag: str, *, deploy: bool = True
) -> Iterator[Site]:
    """Yield a copy of the baked combination, built and migrated as Railway's steps do.

    ``tag`` keeps this module's database apart from other modules' (and other runs'). With
    ``deploy=False`` the copy gets only its venv, its database (DATABASE_URL, REDIS_URL) and no
    Railway variables, no SECRET_KEY and no build: a developer's checkout, where the site's own
    test suite runs.
    """
    answers = BY_ID[combination_id].answers
    wanted = answer(answers, "python_version")
    python, fell_back = python_for(wanted)
    if fell_back:
        print(f"using {python} instead of Python {wanted}")
    baked = get_baked(combination_id)
    workdir = tmp_path_factory.mktemp(f"{tag}-{combination_id}")
    (workdir / "home").mkdir()
    project = workdir / baked.name
    shutil.copytree(baked, project, symlinks=True)
    venv_python = build_venv(project, python)
    slug = expected_slug(answers)
    name = database_name(f"{combination_id}-{tag}")
    if deploy:
        (project / ".env").unlink(missing_ok=True)  # production reads no .env
        password = secrets.token_hex(16)  # ignored by trust auth; must never show up anywhere
        secret_key = secrets.token_urlsafe(50)
        user_url = database_url(name).replace("://postgres@", f"://postgres:{password}@", 1)
        deployment = railway_deployment(
            combination_id,
            project,
            venv_python.parent,
            workdir,
            database_url=user_url,
            secret_key=secret_key,
            hidden=[secret_key, password],
        )
    else:
        variables = {"DATABASE_URL": database_url(name)}
        if answer(answers, "use_redis"):
            variables["REDIS_URL"] = redis_url(combination_id)
        if answer(answers, "media_storage") == "bucket":
            # The site's tests make their own buckets on this S3 API (tests/helpers.py).
            variables["TEST_S3_ENDPOINT"] = s3_server().endpoint
        config = read_config(project, answer(answers, "railway_service_name"))
        deployment = Deployment(
            combination_id, project, venv_python.parent, config, variables, workdir
        )
    site = Site(combination_id, answers, deployment, slug, public_domain(slug), name)
    # Another pytest session on this machine may use the same database (and Redis) names:
    # take turns rather than drop each other's databases.
    with file_lock(CACHE_DIR / "locks" / f"{name}.lock"):
        manage_database(venv_python, name, "create")
        try:
            if deploy:
                for step in (deployment.build, deployment.pre_deploy):
                    result = step()
                    assert result.returncode == 0, (
                        f"{result.command} exited {result.returncode}:\n{site.show(result.output)}"
                    )
            yield site
        finally:
            deployment.close()
            manage_database(venv_python, name, "drop")


def as_response(reply: Reply, url: str) -> Response:
    """Return an emulator ``Reply`` as the Observatory ``Response`` for ``url``."""
    return Response(
        url=url,
        status=reply.status,
        headers=list(reply.headers.items()),
        body=reply.text,
    )


@dataclass
class Server:
    """One running replica of a prepared site."""

    site: Site
    instance: Instance

    @property
    def port(self) -> int:
        return self.instance.port

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        https: bool = True,
    ) -> Response:
        """Send one request as the edge forwards it (no cookies kept); return the answer."""
        edge = self.site.edge()
        reply = edge.request(
            self.instance, path, method=method, https=https, headers=headers, body=body, timeout=30
        )
        host = (headers or {}).get("Host", self.site.domain)
        return as_response(reply, f"{'https' if https else 'http'}://{host}{path}")

    def log_text(self) -> str:
        return self.instance.log_text()


@contextlib.contextmanager
def serve(site: Site, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start the site's start command as one replica, stopped when the block ends.

    Waits until ``/health/live/`` answers Railway's probe (liveness, not ``/health/``: a test may
    start the site against a database that is down on purpose).
    """
    replica = f"replica-{len(site.deployment.instances) + 1}"
    instance = site.deployment.instance(replica, **(extra_env or {})).start()
    try:
        try:
            instance.wait_healthy("/health/live/", START_TIMEOUT, interval=0.3)
        except AssertionError as error:
            pytest.fail(f"{error}:\n{site.show(instance.log_text())}", pytrace=False)
        yield Server(site, instance)
    finally:
        instance.stop()
