"""Do with a baked site what Railway does with a repository, on this machine.

Railway cannot be reached from the tests, so this module plays its part, step by step:

- ``read_config``: the service's build, pre-deploy and start commands and its healthcheck, read
  from the site's own configuration (the evaluated ``.railway/railway.py`` graph, or
  ``railway.toml`` for legacy services). Nothing here knows what the commands are.
- ``Deployment``: the variables Railway injects, the build command, the pre-deploy command (once
  per deployment, in a throwaway copy of the image: a separate container whose file changes are
  lost), and instances started through ``bash -c`` on their own ``PORT`` and ``RAILWAY_REPLICA_ID``
  (bash runs a lone command in its own process, as a container's PID 1: signals reach gunicorn).
- ``Instance.wait_healthy``: Railway's probe, plain HTTP to ``healthcheckPath`` with Host
  ``healthcheck.railway.app``, until 200 or the configured timeout.
- ``Edge``: requests as Railway's edge forwards them (Host = the public domain, X-Forwarded-*).
- ``PostgresCluster``: a private PostgreSQL cluster (initdb/pg_ctl, free port, password auth) that
  a test may stop and start; ``HungDatabase``: a server that accepts TCP and never answers.

Every process is started in its own session so that stopping it ends its whole process group.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pwd
import re
import secrets
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import tomllib

from tests.support.processes import free_port, kill_group, process_group, redact, tail
from tests.support.railway_config import graph_of

#: The Host header of Railway's deploy healthcheck (docs: deployments/healthchecks).
HEALTHCHECK_HOST = "healthcheck.railway.app"
#: The address the edge reports for the client (TEST-NET-3: documentation addresses).
CLIENT_ADDRESS = "203.0.113.10"
#: What Railpack's Python provider sets in the image, besides PATH and VIRTUAL_ENV.
BUILDER_ENVIRONMENT = {
    "PYTHONFAULTHANDLER": "1",
    "PYTHONUNBUFFERED": "1",
    "PYTHONHASHSEED": "random",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}
COMMAND_TIMEOUT = 300


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class RailwayConfig:
    """What Railway reads from the site's configuration for the web service."""

    source: str
    build_command: str
    pre_deploy_commands: list[str]
    start_command: str
    healthcheck_path: str
    healthcheck_timeout: int
    #: IaC variables of the web service, as in the graph (literal, reference, preserve, ...).
    variables: dict[str, Any]
    #: Address -> engine ("postgres", "redis", "bucket") for what a reference may point at.
    engines: dict[str, str]


def _commands(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def read_config(project: Path, service_name: str) -> RailwayConfig:
    """Return the web service's configuration: ``.railway/railway.py``, else railway.toml."""
    if (project / ".railway" / "railway.py").is_file():
        graph = graph_of(project)
        resources = list(graph.get("resources", []))
        found = [
            node
            for node in resources
            if node.get("type") == "service" and node.get("name") == service_name
        ]
        if len(found) != 1:
            raise AssertionError(f"expected one service named {service_name!r} in the IaC graph")
        node = found[0]
        build, deploy = node.get("build") or {}, node.get("deploy") or {}
        variables = dict(node.get("variables") or {})
        engines = {
            str(n["address"]): str(n.get("engine"))
            for n in resources
            if n.get("type") == "database" and "address" in n
        }
        engines.update(
            {str(n["address"]): "bucket" for n in resources if n.get("type") == "bucket"}
        )
        source = ".railway/railway.py"
    elif (project / "railway.toml").is_file():
        data = tomllib.loads((project / "railway.toml").read_text(encoding="utf-8"))
        build, deploy = data.get("build") or {}, data.get("deploy") or {}
        variables, engines, source = {}, {}, "railway.toml"
    else:
        raise AssertionError(f"{project} has neither .railway/railway.py nor railway.toml")
    return RailwayConfig(
        source=source,
        build_command=str(build.get("buildCommand") or ""),
        pre_deploy_commands=_commands(deploy.get("preDeployCommand")),
        start_command=str(deploy.get("startCommand") or ""),
        healthcheck_path=str(deploy.get("healthcheckPath") or ""),
        # Railway's default when the configuration says nothing (docs: healthchecks).
        healthcheck_timeout=int(deploy.get("healthcheckTimeout") or 300),
        variables=variables,
        engines=engines,
    )


def service_variables(
    config: RailwayConfig,
    *,
    database_url: str,
    secret_key: str,
    redis_url: str | None,
    bucket: dict[str, str] | None = None,
) -> dict[str, str]:
    """Return the service's own variables as Railway would resolve them.

    IaC: literals as written, references to the PostgreSQL/Redis services resolved to the given
    URLs, ``preserve()`` kept for SECRET_KEY (the one secret a user sets) and left unset for the
    optional ones. railway.toml carries no variables: the user sets DATABASE_URL and SECRET_KEY
    (and REDIS_URL when the site uses Redis, the bucket's references when it has one) in the
    dashboard, as the site's README says. ``bucket`` holds a bucket's variables by name (BUCKET,
    ACCESS_KEY_ID, ...): a reference to the bucket resolves to the one its ``output`` names.
    """
    if config.source == "railway.toml":
        out = {"DATABASE_URL": database_url, "SECRET_KEY": secret_key}
        if redis_url:
            out["REDIS_URL"] = redis_url
        if bucket:
            out.update(bucket)
        return out
    urls = {"postgres": database_url, "redis": redis_url}
    out = {}
    for name, value in config.variables.items():
        kind = value.get("type") if isinstance(value, dict) else "literal"
        if kind in ("literal", "raw"):
            out[name] = str(value.get("value") if isinstance(value, dict) else value)
        elif kind == "reference":
            engine = config.engines.get(str(value.get("resource")))
            if engine == "bucket":
                if not bucket or str(value.get("output")) not in bucket:
                    raise AssertionError(f"{name} refers to a bucket output the test does not run")
                out[name] = bucket[str(value.get("output"))]
                continue
            if urls.get(engine) is None:
                raise AssertionError(f"{name} refers to a {engine!r} service the test does not run")
            out[name] = urls[engine]
        elif kind == "preserve":
            if name == "SECRET_KEY":
                out[name] = secret_key
        else:
            raise AssertionError(f"{name}: variable type {kind!r} is not emulated")
    return out


# --------------------------------------------------------------------------- processes


@dataclass
class CommandResult:
    command: str
    returncode: int
    output: str = field(repr=False)
    seconds: float


def run_shell(command: str, *, cwd: Path, env: dict[str, str], timeout: float) -> CommandResult:
    """Run ``sh -c command`` to completion (its process group is killed on timeout)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        ["sh", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc, signal.SIGKILL)
        output, _ = proc.communicate()
        output += f"\n[emulator] killed after {timeout} s"
    return CommandResult(command, proc.returncode, output, time.monotonic() - started)


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    def cookies(self) -> dict[str, Morsel]:
        jar: dict[str, Morsel] = {}
        for line in self.headers.get_all("Set-Cookie") or []:
            parsed = SimpleCookie()
            parsed.load(line)
            jar.update(parsed)
        return jar


def http_request(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    """Send one HTTP/1.1 request to 127.0.0.1:port (redirects not followed); return the answer."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    return Reply(response.status, response.headers, data, time.monotonic() - started)


@dataclass(frozen=True)
class Teardown:
    """How a replica ended: its exit status, seconds from SIGTERM, whether SIGKILL was needed."""

    returncode: int
    seconds: float
    killed: bool


class Instance:
    """One running replica: ``bash -c <start command>`` with its own PORT and log file.

    bash replaces itself with a lone simple command, so the start command's process is the one
    that gets the signals, as a container's PID 1 would (``sh`` on Debian, dash, keeps itself in
    between and dies on SIGTERM without passing it on).
    """

    def __init__(self, name: str, command: str, cwd: Path, env: dict[str, str], log: Path):
        self.name, self.command, self.cwd, self.env, self.log = name, command, cwd, env, log
        self.port = int(env["PORT"])
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.started_wall = 0.0

    def start(self) -> Instance:
        with open(self.log, "ab") as log:
            log.write(f"\n[emulator] starting {self.name}: bash -c {self.command!r}\n".encode())
            log.flush()
            self.started_wall = time.time()
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(
                ["bash", "-c", self.command],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float = 30.0) -> int | None:
        """SIGTERM to the process group (as Railway stops a container), SIGKILL after ``grace``."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            kill_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                kill_group(self.proc, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # Children left behind by a crashed master would keep the port: end them too.
        kill_group(self.proc, signal.SIGKILL)
        return self.proc.returncode

    def terminate(self, draining: float) -> Teardown:
        """Stop the replica as Railway tears a deployment down; return what happened.

        SIGTERM to the start command's process (the container's PID 1), then SIGKILL to whatever
        is left once ``draining`` seconds have passed (Railway's drainingSeconds; 0 kills at once).
        """
        if self.proc is None:
            raise AssertionError(f"{self.name} was never started")
        started = time.monotonic()
        killed = False
        if self.proc.poll() is None:
            if draining > 0:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=draining)
                except subprocess.TimeoutExpired:
                    killed = True
            else:
                killed = True
        if killed:
            kill_group(self.proc, signal.SIGKILL)
            self.proc.wait(timeout=10)
        seconds = time.monotonic() - started
        kill_group(self.proc, signal.SIGKILL)  # workers a dead master left behind
        return Teardown(self.proc.returncode, seconds, killed)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def probe(self, path: str, timeout: float = 10.0) -> Reply:
        """Send Railway's healthcheck request: plain HTTP, Host healthcheck.railway.app."""
        return http_request(self.port, path, headers={"Host": HEALTHCHECK_HOST}, timeout=timeout)

    def wait_healthy(self, path: str, timeout: float, interval: float = 0.2) -> float:
        """Return the seconds from start until ``path`` answers 200.

        Raise AssertionError when the instance exits first or ``timeout`` runs out.
        """
        deadline = self.started_at + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if not self.running():
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode} before it was healthy"
                )
            try:
                reply = self.probe(path, timeout=min(5.0, max(0.1, deadline - time.monotonic())))
            except OSError as error:
                last = type(error).__name__
            else:
                if reply.status == 200:
                    return time.monotonic() - self.started_at
                last = f"HTTP {reply.status}"
            time.sleep(interval)
        raise AssertionError(f"{self.name}: {path} not 200 within {timeout} s (last: {last})")

    def wait_listening(self, timeout: float = 60.0) -> None:
        """Wait until something accepts TCP connections on the instance's port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 1),
            ):
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not listen on {self.port} within {timeout} s")


class Edge:
    """Requests as Railway's edge forwards them: TLS already ended, the scheme in a header.

    Keeps cookies like a browser would for the one public domain (a plain name -> value jar).
    """

    def __init__(self, domain: str):
        self.domain = domain
        self.origin = f"https://{domain}"
        self.cookies: dict[str, str] = {}

    def request(
        self,
        instance: Instance,
        path: str,
        *,
        method: str = "GET",
        https: bool = True,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """Send one request to ``instance`` as the edge forwards it; return the answer.

        ``form`` is sent url-encoded; ``body`` is sent as given (with the caller's headers).
        The cookies the answer sets are kept for the next request.
        """
        sent = {
            "Host": self.domain,
            "X-Forwarded-For": CLIENT_ADDRESS,
            "X-Real-IP": CLIENT_ADDRESS,
            "X-Forwarded-Host": self.domain,
            "User-Agent": "railway-emulator",
        }
        if https:
            sent["X-Forwarded-Proto"] = "https"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        reply = http_request(
            instance.port, path, method=method, headers=sent, body=body, timeout=timeout
        )
        for name, morsel in reply.cookies().items():
            if morsel["max-age"] == "0" or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value
        return reply


# --------------------------------------------------------------------------- deployment


@dataclass
class Deployment:
    """One service on the emulated Railway: its image folder, venv, variables and replicas."""

    name: str
    image: Path
    bin_dir: Path
    config: RailwayConfig
    # Kept out of repr: pytest prints a failing test's arguments, and these hold secrets.
    variables: dict[str, str] = field(repr=False)
    workdir: Path
    secrets: list[str] = field(default_factory=list, repr=False)
    instances: list[Instance] = field(default_factory=list)
    pre_deploy_runs: int = 0

    def environment(self, **overrides: str | None) -> dict[str, str]:
        """Return the environment of a container: the image's, the service's variables, overrides.

        An override of None removes the variable.
        """
        env = {
            "PATH": f"{self.bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "VIRTUAL_ENV": str(self.bin_dir.parent),
            "HOME": str(self.workdir / "home"),
            "LANG": "C.UTF-8",
            **BUILDER_ENVIRONMENT,
            **self.variables,
        }
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def show(self, text: str) -> str:
        return tail(redact(text, self.secrets))

    def build(self, image: Path | None = None) -> CommandResult:
        """Run the build command in the image folder (service variables are available at build)."""
        return run_shell(
            self.config.build_command,
            cwd=image or self.image,
            env=self.environment(PORT=None, RAILWAY_REPLICA_ID=None),
            timeout=COMMAND_TIMEOUT,
        )

    def pre_deploy(self, image: Path | None = None, **overrides: str | None) -> CommandResult:
        """Run each pre-deploy command in a throwaway copy of the image, up to the first failure."""
        self.pre_deploy_runs += 1
        container = Path(tempfile.mkdtemp(prefix="pre-deploy-", dir=self.workdir))
        try:
            copy = container / "app"
            shutil.copytree(image or self.image, copy, symlinks=True)
            outputs, result = [], None
            for command in self.config.pre_deploy_commands:
                result = run_shell(
                    command,
                    cwd=copy,
                    env=self.environment(RAILWAY_REPLICA_ID=None, **overrides),
                    timeout=COMMAND_TIMEOUT,
                )
                outputs.append(result.output)
                if result.returncode != 0:
                    break
        finally:
            shutil.rmtree(container, ignore_errors=True)
        if result is None:
            return CommandResult("", 0, "", 0.0)
        return CommandResult(result.command, result.returncode, "".join(outputs), result.seconds)

    def instance(
        self, replica: str, *, port: int | None = None, image: Path | None = None, **overrides
    ) -> Instance:
        """Return a new replica, not yet started (``close`` stops it)."""
        env = self.environment(
            PORT=str(port or free_port()),
            RAILWAY_REPLICA_ID=f"{replica}-{secrets.token_hex(4)}",
            **overrides,
        )
        log = self.workdir / f"{replica}.log"
        created = Instance(replica, self.config.start_command, image or self.image, env, log)
        self.instances.append(created)
        return created

    def manage(self, *args: str, settings: str, **overrides: str | None) -> CommandResult:
        """Run a one-off ``python manage.py ...`` in the image, as `railway run`/`ssh` would."""
        command = shlex.join(["python", "manage.py", *args, f"--settings={settings}"])
        return run_shell(
            command, cwd=self.image, env=self.environment(**overrides), timeout=COMMAND_TIMEOUT
        )

    def release(self, image: Path, replica: str) -> Release:
        """Deploy a new release as Railway does: build, pre-deploy, then start and healthcheck.

        A failed step ends the release there: nothing of it is started, and whatever already
        runs keeps serving.
        """
        built = self.build(image)
        if built.returncode != 0:
            return Release("build", built, None)
        predeployed = self.pre_deploy(image)
        if predeployed.returncode != 0:
            return Release("pre-deploy", predeployed, None)
        instance = self.instance(replica, image=image).start()
        try:
            instance.wait_healthy(self.config.healthcheck_path, self.config.healthcheck_timeout)
        except AssertionError:
            instance.stop()
            return Release("healthcheck", None, instance)
        return Release("live", predeployed, instance)

    def close(self) -> None:
        """Stop every replica: SIGTERM to all of them at once, then wait for each."""
        for instance in self.instances:
            if instance.running():
                kill_group(instance.proc, signal.SIGTERM)
        for instance in self.instances:
            instance.stop(grace=15)


@dataclass
class Release:
    """How far a release got: "build", "pre-deploy" or "healthcheck" (failed there) or "live"."""

    stage: str
    result: CommandResult | None
    instance: Instance | None


def railway_variables(service: str, domain: str, deployment_id: str) -> dict[str, str]:
    """Return the variables Railway injects into every deployment (besides PORT and replica)."""
    return {
        "RAILWAY_PUBLIC_DOMAIN": domain,
        "RAILWAY_PRIVATE_DOMAIN": f"{service}.railway.internal",
        "RAILWAY_ENVIRONMENT_NAME": "production",
        "RAILWAY_SERVICE_NAME": service,
        "RAILWAY_DEPLOYMENT_ID": deployment_id,
    }


# --------------------------------------------------------------------------- databases


def _pg_tool(name: str) -> str:
    """Return a PostgreSQL tool from one folder, so the server and its tools are one version.

    The folder is the one ``CFMP_POSTGRES_BIN`` names (.ci/run sets it to PostgreSQL 18,
    Railway's version), else the one that holds initdb on PATH, else Debian's newest
    /usr/lib/postgresql/<version>/bin.
    """
    initdb = shutil.which("initdb")
    if os.environ.get("CFMP_POSTGRES_BIN"):
        folder = Path(os.environ["CFMP_POSTGRES_BIN"])
    elif initdb:
        folder = Path(os.path.realpath(initdb)).parent
    else:
        debian = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/initdb"),
            key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
        )
        if not debian:
            raise AssertionError("PostgreSQL's initdb is not installed (Debian: postgresql)")
        folder = debian[-1].parent
    tool = folder / name
    if not tool.exists():
        raise AssertionError(f"{tool} is missing")
    return str(tool)


class PostgresCluster:
    """A private PostgreSQL cluster in a temporary folder, on a free port, with a password.

    PostgreSQL refuses to run as root; as root, the cluster runs as the ``postgres`` user.
    """

    def __init__(self, database: str = "railway", *, max_connections: int | None = None):
        self.database = database
        #: PostgreSQL's max_connections (its default, 100, when None).
        self.max_connections = max_connections
        self.password = secrets.token_urlsafe(24)
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="cfmp-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.logfile = self.root / "postgres.log"
        self._as_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            self._as_user = {"user": account.pw_uid, "group": account.pw_gid}
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.sockets.mkdir()
        if self._as_user:
            os.chown(self.sockets, self._as_user["user"], self._as_user["group"])

    def _run(self, *args: str, timeout: float = 120) -> str:
        proc = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.root,
            **self._as_user,
        )
        if proc.returncode != 0:
            log = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
            raise AssertionError(
                f"{Path(args[0]).name} exited {proc.returncode}:\n"
                + tail(redact(proc.stdout + proc.stderr + log, [self.password]))
            )
        return proc.stdout

    def init(self) -> PostgresCluster:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        if self._as_user:
            os.chown(pwfile, self._as_user["user"], self._as_user["group"])
        try:
            self._run(
                _pg_tool("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self.start()
        self._run(
            _pg_tool("createdb"), "-h", str(self.sockets), "-p", str(self.port), "-U", "postgres",
            self.database,
        )  # fmt: skip
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        if self.max_connections is not None:
            options += f" -c max_connections={self.max_connections}"
        self._run(
            _pg_tool("pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_tool("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        proc = subprocess.run(
            [_pg_tool("pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            check=False,
            **self._as_user,
        )
        return proc.returncode == 0

    def url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def query(self, sql: str) -> list[list[str]]:
        """Return the rows of ``sql`` (over the local socket) as lists of text fields."""
        out = self._run(
            _pg_tool("psql"), "-h", str(self.sockets), "-p", str(self.port), "-U", "postgres",
            "-d", self.database, "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t", "-F", "\t", "-c", sql,
        )  # fmt: skip
        return [line.split("\t") for line in out.splitlines() if line]

    def close(self) -> None:
        if self.data.exists() and self.running():
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class HungDatabase:
    """A TCP server that accepts connections and never answers (a database that hangs)."""

    def __init__(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hung-database", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        while not self._stop.is_set():
            for _key, _events in selector.select(timeout=0.2):
                with contextlib.suppress(OSError):
                    connection, _ = self._listener.accept()
                    self._held.append(connection)  # read nothing, answer nothing
                    self.accepted += 1
        selector.close()

    def url(self, password: str) -> str:
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/railway"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in [*self._held, self._listener]:
            with contextlib.suppress(OSError):
                connection.close()


# --------------------------------------------------------------------------- load


WRK_RESULT = re.compile(r"^BURST (.*)$", re.MULTILINE)
WRK_SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "wrk" / "burst.lua"


@dataclass
class BurstResult:
    requests: int
    answered: int
    non2xx: int
    seconds: float
    errors: dict[str, int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    output: str

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def burst(
    port: int,
    host: str,
    paths: list[str],
    *,
    total: int,
    connections: int,
    threads: int,
    workdir: Path,
    limit: float = 180.0,
) -> BurstResult:
    """Send ``total`` requests over ``paths`` with wrk, through the edge's headers; return figures.

    wrk runs until its duration ends; the script marks each thread done in a file, and wrk is
    interrupted (SIGINT: it then prints its summary) as soon as every thread has finished.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        raise AssertionError("wrk is not installed (Debian: apt-get install wrk)")
    if total % threads:
        raise ValueError("total must be a multiple of threads")
    done_file = workdir / f"wrk-done-{secrets.token_hex(4)}"
    done_file.write_text("", encoding="utf-8")
    args = [
        wrk, "-t", str(threads), "-c", str(connections), "-d", f"{int(limit)}s",
        "--timeout", "10s", "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}",
        "--", str(total // threads), host, str(done_file), *paths,
    ]  # fmt: skip
    with process_group(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        started = time.monotonic()
        deadline = started + limit + 10
        while time.monotonic() < deadline and proc.poll() is None:
            finished = len(done_file.read_text(encoding="utf-8").split()) >= threads
            # wrk installs its SIGINT handler after starting its threads: give it a moment.
            if finished and time.monotonic() - started > 0.5:
                proc.send_signal(signal.SIGINT)
                break
            time.sleep(0.02)
        output, _ = proc.communicate(timeout=60)
    found = WRK_RESULT.search(output)
    if not found:
        raise AssertionError(f"wrk printed no summary (exit {proc.returncode}):\n{tail(output)}")

    data = json.loads(found.group(1))
    return BurstResult(
        requests=data["requests"],
        answered=data["answered"],
        non2xx=data["non2xx"],
        seconds=data["duration_us"] / 1e6,
        errors={
            key: data[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")
        },
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        output=output,
    )
