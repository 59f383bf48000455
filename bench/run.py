"""Benchmark: the generated site side by side with the brief's configuration and a bare ceiling.

    .venv/bin/python bench/run.py            # the table; also written to docs/benchmarks.md
    .venv/bin/python bench/run.py --compare  # worker models and connection reuse of the site

One run bakes the default site, installs it from its hashed lock, collects its static files,
runs its pre-deploy step against a throwaway PostgreSQL database, rebuilds the brief's project
(bench/brief.py) into its own virtual environment, and then measures every configuration with
the same load (wrk, same threads, connections, warm-up and duration). Needs: PostgreSQL at
127.0.0.1:5432 (or CFMP_TEST_POSTGRES_URL), wrk on PATH, the package registry for the first
install (venvs are cached under ~/.cache/cfmp-railway/bench/).

The figures are for comparing rows of one run on one machine; absolute numbers depend on the
machine and on what else runs on it (the load average is printed with the table).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import brief  # noqa: E402

CACHE_DIR = (
    Path(os.environ.get("CFMP_TEST_CACHE", Path.home() / ".cache" / "cfmp-railway")) / "bench"
)
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv"))
POSTGRES_URL = os.environ.get("CFMP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
RUN_ID = re.sub(r"[^a-z0-9]+", "_", os.environ.get("CFMP_TEST_RUN_ID", "").lower())
DOCS_FILE = REPO_DIR / "docs" / "benchmarks.md"

SLUG = "cfmp"  # the default answers' package name
PUBLIC_HOST = "cfmp-production.up.railway.app"
PROBE_HOST = "healthcheck.railway.app"
# What Railway's edge adds to every public request, and what a browser asks for.
EDGE_HEADERS = {"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https"}
BROWSER_HEADERS = {**EDGE_HEADERS, "Accept-Encoding": "br, gzip"}
# Railway's healthcheck probe: plain HTTP, its own Host, no forwarded headers.
PROBE_HEADERS = {"Host": PROBE_HOST}

PSYCOPG_POOL = "psycopg-pool==3.3.3"  # only for the --compare variant that tries the pool


# --------------------------------------------------------------------------- pure helpers


@dataclass
class LoadSettings:
    """The same for every cell of a run."""

    duration: int = 8
    warmup: int = 2
    connections: int = 32
    threads: int = 2

    def describe(self) -> str:
        return (
            f"wrk -t {self.threads} -c {self.connections} -d {self.duration}s "
            f"after a {self.warmup} s warm-up"
        )


_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_duration_ms(text: str) -> float:
    """wrk's latency figures ("812.00us", "1.25ms", "2.01s") in milliseconds."""
    match = re.fullmatch(r"\s*([\d.]+)\s*(us|ms|s|m|h)\s*", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _TIME_UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> dict:
    """The figures of one ``wrk --latency`` run: rps, p50/p75/p90/p99 (ms), requests, errors."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if not rps:
        raise ValueError("no Requests/sec line in wrk's output:\n" + output)
    result = {"rps": float(rps.group(1))}
    for percent, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE):
        result[f"p{percent}"] = parse_duration_ms(value)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    result["requests"] = int(total.group(1)) if total else 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["socket_errors"] = sum(int(n) for n in errors.groups()) if errors else 0
    return result


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    """A markdown table; the first column left-aligned, the others right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells, the header {len(headers)}: {row!r}")
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        padded = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        ("-" * (w + 1) + "-") if i == 0 else ("-" * (w + 1) + ":") for i, w in enumerate(widths)
    )
    rule += "|"
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def replace_section(document: str, name: str, body: str) -> str:
    """Replace the text between ``<!-- bench:NAME:start -->`` and its end marker (or append)."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _: block, document)
    return document.rstrip() + "\n\n" + block + "\n"


def stylesheet_href(html: str) -> str | None:
    """The first stylesheet link of a page."""
    match = re.search(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html)
    return match.group(1) if match else None


def fmt_rps(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def fmt_pct(part: float | None, whole: float | None) -> str:
    if part is None or not whole:
        return "—"
    return f"{100 * part / whole:.0f} %"


def fmt_mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _process_table() -> dict[int, int]:
    """pid -> parent pid, for every process visible in /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def _proc_kb(pid: int, filename: str, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/{filename}").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


@dataclass
class Server:
    """One configuration's processes, started from its start command in a session of its own."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    log: Path
    port: int = 0
    process: subprocess.Popen | None = None
    started_at: float = 0.0

    def start(self, port: int | None = None) -> None:
        self.port = port or free_port()
        env = {**self.env, "PORT": str(self.port)}
        with open(self.log, "ab") as log:
            log.write(f"\n--- start {self.name} on {self.port}\n".encode())
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        """SIGTERM to the session this server started (its own process group), then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def gunicorn_pids(self) -> list[int]:
        """The gunicorn master and workers under this server's process (a shell may sit above)."""
        if self.process is None:
            return []
        parents = _process_table()
        family, frontier = set(), {self.process.pid}
        while frontier:
            family |= frontier
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - family
        pids = []
        for pid in sorted(family):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"gunicorn" in cmdline:
                pids.append(pid)
        return pids

    def memory_mb(self) -> tuple[float, float, int]:
        """(RSS total, PSS total, process count) of the gunicorn processes, in MB."""
        pids = self.gunicorn_pids()
        rss = sum(_proc_kb(pid, "status", "VmRSS") for pid in pids)
        pss = sum(_proc_kb(pid, "smaps_rollup", "Pss") for pid in pids)
        return rss / 1024, pss / 1024, len(pids)


def request(
    port: int, path: str, headers: dict[str, str], timeout: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    """One GET over a fresh connection: (status, headers with lower-case names, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def wait_healthy(server: Server, limit: float = 120.0) -> dict:
    """Seconds from the start command to the first 200 on /health/.

    ``probe``: Railway's probe as it is (plain HTTP, Host healthcheck.railway.app).
    ``edge``: the same Host with X-Forwarded-Proto: https, for a configuration whose probe never
    gets a 200 (the brief redirects it). Gives up on the probe 3 s after the edge got its 200.
    """
    result = {"probe": None, "edge": None, "probe_status": None}
    edge_headers = {**PROBE_HEADERS, "X-Forwarded-Proto": "https"}
    while time.monotonic() - server.started_at < limit:
        if server.process is None or server.process.poll() is not None:
            result["probe_status"] = "exited"
            break
        elapsed = time.monotonic() - server.started_at
        try:
            status, _, _ = request(server.port, "/health/", PROBE_HEADERS, timeout=5)
        except OSError:
            time.sleep(0.02)
            continue
        result["probe_status"] = status
        if status == 200:
            result["probe"] = elapsed
            result["edge"] = result["edge"] or elapsed
            break
        if result["edge"] is None:
            with contextlib.suppress(OSError):
                if request(server.port, "/health/", edge_headers, timeout=5)[0] == 200:
                    result["edge"] = time.monotonic() - server.started_at
        elif elapsed - result["edge"] > 3:
            break
        time.sleep(0.02)
    return result


def run_wrk(port: int, path: str, seconds: int, load: LoadSettings) -> dict:
    command = [
        "wrk",
        "-t",
        str(load.threads),
        "-c",
        str(load.connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    for name, value in BROWSER_HEADERS.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    proc = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return parse_wrk(proc.stdout)


def measure(port: int, path: str, load: LoadSettings) -> dict:
    """Check the answer once, warm up, then measure."""
    status, _, _ = request(port, path, BROWSER_HEADERS)
    if load.warmup:
        run_wrk(port, path, load.warmup, load)
    result = run_wrk(port, path, load.duration, load)
    result["status"] = status
    return result


class HungDatabase:
    """A TCP server that accepts connections and never sends a byte: a database that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def time_hung_health(server: Server, limit: float = 45.0) -> dict:
    """Seconds until /health/ answers while the database hangs, and what it answered."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until gunicorn listens (no migrate here)
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", server.port), 1):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    headers = {**PROBE_HEADERS, "X-Forwarded-Proto": "https"}
    started = time.monotonic()
    try:
        status, _, _ = request(server.port, "/health/", headers, timeout=limit)
        outcome = str(status)
    except (http.client.RemoteDisconnected, ConnectionResetError):
        outcome = "closed, no answer"
    except TimeoutError:
        outcome = f"no answer in {limit:.0f} s"
    return {"seconds": time.monotonic() - started, "outcome": outcome}


# --------------------------------------------------------------------------- setup


def python_for(version: str) -> str:
    """pyenv's newest Python ``version`` (e.g. "3.12"), else python3.X on PATH, else this one."""
    candidates = sorted(
        PYENV_ROOT.glob(f"versions/{version}.*/bin/python"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parts[-3].split(".")],
    )
    for candidate in reversed(candidates):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(f"python{version}") or sys.executable


def run(command: list[str], cwd: Path | None = None, env: dict | None = None, timeout=1200):
    proc = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr)[-3000:]
        raise RuntimeError(f"{shlex.join(command)} exited {proc.returncode}:\n{output}")
    return proc.stdout


def build_venv(name: str, python: str, requirements: Path, *, hashed: bool, extra=()) -> Path:
    """A cached venv with ``requirements`` installed; returns its bin folder."""
    text = requirements.read_text(encoding="utf-8") + "\n".join(extra)
    digest = hashlib.sha256(f"{os.path.realpath(python)}\n{text}".encode()).hexdigest()[:12]
    venv = CACHE_DIR / f"{name}-{digest}"
    marker = venv / ".installed"
    if not marker.exists():
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        run([python, "-m", "venv", str(venv)])
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-input", "-q"]
        run([*pip, *(["--require-hashes"] if hashed else []), "-r", str(requirements)])
        if extra:
            run([*pip, *extra])
        marker.write_text(text, encoding="utf-8")
    return venv / "bin"


def bake(output_dir: Path) -> tuple[Path, float]:
    """Bake the default answers with cookiecutter; (project folder, seconds)."""
    from cookiecutter.main import cookiecutter

    user = output_dir / "cookiecutter-user"
    (user / "replay").mkdir(parents=True)
    config = user / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: {user / 'templates'}\nreplay_dir: {user / 'replay'}\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    project = cookiecutter(
        template=str(REPO_DIR),
        no_input=True,
        output_dir=str(output_dir / "site"),
        config_file=str(config),
    )
    return Path(project), time.monotonic() - started


SQL_DATABASE = """
import sys, psycopg
url, name, action = sys.argv[1:4]
with psycopg.connect(url, autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if action == "create":
        conn.execute(f'CREATE DATABASE "{name}"')
    print(conn.execute("SHOW server_version").fetchone()[0])
"""


def database(bin_dir: Path, name: str, action: str) -> str:
    """Create (fresh) or drop a throwaway database; returns the server's version."""
    out = run(
        [str(bin_dir / "python"), "-c", SQL_DATABASE, f"{POSTGRES_URL}/postgres", name, action]
    )
    return out.strip()


def database_name(role: str) -> str:
    return "_".join(part for part in ("cfmp_bench", role, RUN_ID) if part)[:58]


def base_env(bin_dir: Path) -> dict[str, str]:
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "VIRTUAL_ENV": str(bin_dir.parent),
    }


def site_gunicorn_settings(site_dir: Path, python: Path, env: dict[str, str]) -> dict:
    """workers, worker_class and threads as the site's gunicorn.conf.py sets them for ``env``.

    Read in the site's own Python: gunicorn.conf.py reads its variables through the site's
    settings package, which imports Django.
    """
    script = (
        "import json, runpy, sys; sys.path.insert(0, '.'); v = runpy.run_path('gunicorn.conf.py');"
        " print(json.dumps({k: v.get(k) for k in ('workers', 'worker_class', 'threads')}))"
    )
    proc = subprocess.run(
        [str(python), "-c", script],
        cwd=site_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    values = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "workers": values.get("workers") or 1,
        "worker_class": values.get("worker_class") or "sync",
        "threads": values.get("threads") or 1,
    }


# --------------------------------------------------------------------------- configurations


@dataclass
class Config:
    key: str
    title: str
    server: Server
    hung_command: list[str] | None = None  # how to start it against the hung database
    results: dict = field(default_factory=dict)


@dataclass
class Environment:
    """Everything installed once per run."""

    workdir: Path
    site_dir: Path
    site_bin: Path
    brief_dir: Path
    brief_bin: Path
    bake_seconds: float
    site_db: str
    brief_db: str
    pg_version: str
    python_version: str
    brief_pins_note: str
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(50))

    def site_env(self, **changes: str) -> dict[str, str]:
        env = base_env(self.site_bin)
        env.update(
            SECRET_KEY=self.secret,
            DATABASE_URL=f"{POSTGRES_URL}/{self.site_db}",
            RAILWAY_PUBLIC_DOMAIN=PUBLIC_HOST,
        )
        env.update(changes)
        return env

    def brief_env(self, **changes: str) -> dict[str, str]:
        env = base_env(self.brief_bin)
        env.update(
            SECRET_KEY=self.secret,
            DATABASE_URL=f"{POSTGRES_URL}/{self.brief_db}",
            DJANGO_SETTINGS_MODULE="cfmp.settings.production",
            DEBUG="False",
            # The brief's .env lists only the public domain; with only that, Railway's probe gets
            # 400 and nothing can be timed. The probe's host is added (the fix a user would make).
            ALLOWED_HOSTS=f"{PUBLIC_HOST},{PROBE_HOST}",
        )
        env.update(changes)
        return env


def prepare(workdir: Path, with_pool: bool = False) -> Environment:
    print("baking the default site ...", flush=True)
    site_dir, bake_seconds = bake(workdir)
    version = (site_dir / ".python-version").read_text().strip()
    python = python_for(version)
    print(f"installing the site's hashed lock ({python}) ...", flush=True)
    extra = (PSYCOPG_POOL,) if with_pool else ()
    site_bin = build_venv("site", python, site_dir / "requirements.txt", hashed=True, extra=extra)
    print("rebuilding the brief's project and installing its pins ...", flush=True)
    brief_dir = brief.build_brief_project(workdir / "brief", site_dir / SLUG)
    brief_bin = build_venv("brief", python, brief_dir / "requirements.txt", hashed=False)
    python_version = run(
        [str(site_bin / "python"), "-c", "import platform; print(platform.python_version())"]
    ).strip()
    site_db, brief_db = database_name("site"), database_name("brief")
    pg_version = database(site_bin, site_db, "create")
    database(site_bin, brief_db, "create")
    env = Environment(
        workdir=workdir,
        site_dir=site_dir,
        site_bin=site_bin,
        brief_dir=brief_dir,
        brief_bin=brief_bin,
        bake_seconds=bake_seconds,
        site_db=site_db,
        brief_db=brief_db,
        pg_version=pg_version,
        python_version=python_version,
        brief_pins_note=f"the brief's pins as written, all installable on Python {python_version}",
    )
    print("site build (collectstatic) and pre-deploy (manage.py deploy) ...", flush=True)
    settings = f"--settings={SLUG}.settings.production"
    site_env = env.site_env()
    run(["python", "manage.py", "collectstatic", "--noinput", settings], site_dir, site_env)
    run(["python", "manage.py", "deploy", settings], site_dir, site_env)
    return env


def main_configs(env: Environment) -> list[Config]:
    logs = env.workdir
    site_cmd = [str(env.site_bin / "gunicorn"), "--config", "gunicorn.conf.py"]
    site = Config(
        "site",
        "generated site",
        Server("site", site_cmd, env.site_dir, env.site_env(), logs / "site.log"),
        hung_command=site_cmd,
    )
    brief_cfg = Config(
        "brief",
        "brief",
        Server(
            "brief",
            ["sh", "-c", brief.START_COMMAND],
            env.brief_dir,
            env.brief_env(),
            logs / "brief.log",
        ),
        hung_command=["sh", "-c", brief.GUNICORN_COMMAND],
    )
    model = site_gunicorn_settings(env.site_dir, env.site_bin / "python", env.site_env())
    extra = (
        f" --workers {model['workers']} --worker-class {model['worker_class']}"
        f" --threads {model['threads']}"
    )
    brief_w = Config(
        "brief_w",
        f"brief, site's workers ({model['workers']}×{model['threads']} {model['worker_class']})",
        Server(
            "brief_w",
            ["sh", "-c", brief.START_COMMAND + extra],
            env.brief_dir,
            env.brief_env(),
            logs / "brief_w.log",
        ),
        hung_command=["sh", "-c", brief.GUNICORN_COMMAND + extra],
    )
    ceiling_cmd = [
        str(env.site_bin / "gunicorn"),
        "--config",
        "gunicorn.conf.py",
        "--pythonpath",
        str(BENCH_DIR),
        "ceiling:application",
    ]
    ceiling = Config(
        "ceiling",
        "bare WSGI (ceiling)",
        Server("ceiling", ceiling_cmd, env.site_dir, env.site_env(), logs / "ceiling.log"),
    )
    return [site, brief_cfg, brief_w, ceiling]


# --------------------------------------------------------------------------- the main run

PATHS = [("health", "/health/"), ("page", "/"), ("css", None)]


def start_and_time(config: Config) -> None:
    """Cold start, then a restart (stop, start again); leaves the server running."""
    server = config.server
    server.start()
    config.results["cold"] = wait_healthy(server)
    server.stop()
    server.start()
    config.results["restart"] = wait_healthy(server)
    time.sleep(1.0)
    config.results["rest"] = server.memory_mb()


def css_figures(config: Config, fallback: str | None) -> None:
    port = config.server.port
    status, _, body = request(port, "/", BROWSER_HEADERS)
    href = stylesheet_href(body.decode("utf-8", "replace")) if status == 200 else None
    config.results["css_path"] = href or fallback
    if not href:
        return
    _, plain_headers, plain = request(port, href, EDGE_HEADERS)
    _, packed_headers, packed = request(port, href, BROWSER_HEADERS)
    config.results["css_bytes"] = {
        "plain": len(plain),
        "packed": len(packed),
        "encoding": packed_headers.get("content-encoding", "none"),
        "cache": plain_headers.get("cache-control", "(none)"),
    }
    # A bigger stylesheet of the same site, for scale: the admin's base.css (hashed name).
    manifest = config.server.cwd / "staticfiles" / "staticfiles.json"
    if config.key == "site" and manifest.exists():
        names = json.loads(manifest.read_text(encoding="utf-8"))["paths"]
        admin = "/static/" + names["admin/css/base.css"]
        _, _, plain = request(port, admin, EDGE_HEADERS)
        _, _, packed = request(port, admin, BROWSER_HEADERS)
        config.results["admin_css_bytes"] = {"plain": len(plain), "packed": len(packed)}


def hung_database_figures(env: Environment, configs: list[Config]) -> None:
    """Start each configuration against a database that never answers; time /health/."""
    hung = HungDatabase()
    url = f"postgres://postgres@127.0.0.1:{hung.port}/hung"
    servers, threads = [], []
    try:
        for config in configs:
            if config.hung_command is None:
                continue
            original = config.server
            server = Server(
                original.name + "-hung",
                config.hung_command,
                original.cwd,
                {**original.env, "DATABASE_URL": url},
                original.log,
            )
            server.start()
            servers.append(server)

            def work(config=config, server=server):
                config.results["hung"] = time_hung_health(server)

            thread = threading.Thread(target=work)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
    finally:
        for server in servers:
            server.stop()
        hung.close()


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def combine(runs: list[dict]) -> dict:
    """One cell from its rounds: the median of each figure, errors added up."""
    combined = {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50", "p99")}
    combined["non_2xx"] = sum(run["non_2xx"] for run in runs)
    combined["socket_errors"] = sum(run["socket_errors"] for run in runs)
    combined["status"] = ",".join(sorted({str(run["status"]) for run in runs}))
    return combined


def main_run(env: Environment, load: LoadSettings, rounds: int) -> str:
    configs = main_configs(env)
    by_key = {c.key: c for c in configs}
    load_before = load_average()
    try:
        for config in configs:
            print(f"starting {config.title} (cold start, restart) ...", flush=True)
            start_and_time(config)
        site_css = None
        for config in configs:
            css_figures(config, site_css)
            site_css = site_css or config.results.get("css_path")
        # Interleaved: each path is measured for every configuration before the next path, and
        # every other round runs the configurations in reverse order, so a burst of load from
        # elsewhere on the machine spreads over the rows instead of landing on one.
        samples: dict[tuple[str, str], list[dict]] = {}
        for round_number in range(rounds):
            order = configs if round_number % 2 == 0 else list(reversed(configs))
            for kind, path in PATHS:
                for config in order:
                    target = path or config.results.get("css_path") or site_css
                    print(f"round {round_number + 1}: {config.key} {target} ...", flush=True)
                    figures = measure(config.server.port, target, load)
                    samples.setdefault((config.key, kind), []).append(figures)
        for (key, kind), runs in samples.items():
            by_key[key].results[kind] = combine(runs)
        for config in configs:
            config.results["loaded"] = config.server.memory_mb()
    finally:
        for config in configs:
            config.server.stop()
    print("hung database ...", flush=True)
    hung_database_figures(env, configs)
    load_after = load_average()
    table = main_table(configs, env.bake_seconds)
    targets = targets_table(by_key)
    notes = main_notes(env, load, rounds, load_before, load_after, by_key)
    return f"{table}\n\n{targets}\n\n{notes}"


def main_table(configs: list[Config], bake_seconds: float) -> str:
    ceiling = next(c for c in configs if c.key == "ceiling").results
    headers = ["", *(c.title for c in configs)]
    rows = []
    labels = {"health": "`/health/`", "page": "`/`", "css": "CSS file"}

    def rate(c: Config, kind: str) -> str:
        figures = c.results[kind]
        return f"{fmt_rps(figures['rps'])} ({fmt_pct(figures['rps'], ceiling[kind]['rps'])})"

    def latency(c: Config, kind: str) -> str:
        figures = c.results[kind]
        return f"{fmt_ms(figures.get('p50'))} / {fmt_ms(figures.get('p99'))}"

    def answers(c: Config, kind: str) -> str:
        figures = c.results[kind]
        return f"{figures['status']}; {figures['non_2xx']}, {figures['socket_errors']}"

    for kind, _ in PATHS:
        label = labels[kind]
        rows.append([f"{label} req/s (% of ceiling)"] + [rate(c, kind) for c in configs])
        rows.append([f"{label} p50 / p99 ms"] + [latency(c, kind) for c in configs])
        rows.append(
            [f"{label} status; non-2xx/3xx, socket errors"] + [answers(c, kind) for c in configs]
        )

    def memory_cell(c: Config, key: str) -> str:
        rss, pss, count = c.results[key]
        return f"{fmt_mb(rss)} ({fmt_mb(pss)} PSS, {count} proc)"

    rows.append(["gunicorn RSS at rest, MB"] + [memory_cell(c, "rest") for c in configs])
    rows.append(["gunicorn RSS after load, MB"] + [memory_cell(c, "loaded") for c in configs])

    def start_cell(c: Config, key: str) -> str:
        timing = c.results[key]
        if timing["probe"] is not None:
            return fmt_s(timing["probe"])
        edge = timing["edge"]
        shown = f"never ({timing['probe_status']})"
        return shown + (f"; {fmt_s(edge)} with https header" if edge is not None else "")

    rows.append(["cold start to first 200 on probe, s"] + [start_cell(c, "cold") for c in configs])
    rows.append(["restart to first 200 on probe, s"] + [start_cell(c, "restart") for c in configs])

    def css_cell(c: Config, what: str) -> str:
        css = c.results.get("css_bytes")
        if not css:
            return "—"
        if what == "bytes":
            return (
                f"{css['packed']:,} {css['encoding']} / {css['plain']:,} "
                f"({fmt_pct(css['packed'], css['plain'])})"
            )
        return css["cache"]

    rows.append(["CSS bytes: br, gzip / none (%)"] + [css_cell(c, "bytes") for c in configs])
    rows.append(["CSS Cache-Control"] + [css_cell(c, "cache") for c in configs])

    def hung_cell(c: Config) -> str:
        hung = c.results.get("hung")
        return "—" if not hung else f"{fmt_s(hung['seconds'])} ({hung['outcome']})"

    rows.append(["`/health/` with a hung database, s"] + [hung_cell(c) for c in configs])
    rows.append(
        ["template bake, s"] + [fmt_s(bake_seconds) if c.key == "site" else "—" for c in configs]
    )
    return render_table(headers, rows)


def targets_table(by_key: dict[str, Config]) -> str:
    site, brief_r, ceiling = (by_key[k].results for k in ("site", "brief", "ceiling"))

    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    css = site.get("css_bytes") or {"packed": 0, "plain": 1, "cache": ""}
    hung = site.get("hung") or {"seconds": 99, "outcome": ""}
    cache = css["cache"]
    checks = [
        (
            "`/` ≥ 2× the brief's req/s",
            ratio(site["page"]["rps"], brief_r["page"]["rps"]),
            2.0,
            "×",
        ),
        (
            "`/health/` ≥ 1.5× the brief's req/s",
            ratio(site["health"]["rps"], brief_r["health"]["rps"]),
            1.5,
            "×",
        ),
        (
            "`/` ≥ 40 % of the ceiling",
            100 * ratio(site["page"]["rps"], ceiling["page"]["rps"]),
            40,
            "%",
        ),
        (
            "`/health/` ≥ 25 % of the ceiling",
            100 * ratio(site["health"]["rps"], ceiling["health"]["rps"]),
            25,
            "%",
        ),
    ]
    rows = [
        [
            name,
            f"{value:.2f}{unit}" if unit == "×" else f"{value:.0f} {unit}",
            "yes" if value >= goal else "**no**",
        ]
        for name, value, goal, unit in checks
    ]
    rss_after = site["loaded"][0]
    rows.append(
        [
            "gunicorn RSS after load ≤ 300 MB",
            f"{rss_after:.0f} MB",
            "yes" if rss_after <= 300 else "**no**",
        ]
    )
    cold = site["cold"]["probe"]
    rows.append(
        [
            "cold start to healthy ≤ 2 s",
            fmt_s(cold),
            "yes" if cold is not None and cold <= 2 else "**no**",
        ]
    )
    share = 100 * css["packed"] / css["plain"]
    max_age = re.search(r"max-age=(\d+)", cache)
    long_cache = bool(max_age) and int(max_age.group(1)) >= 31_536_000 and "immutable" in cache
    rows.append(
        [
            "CSS on the wire ≤ 25 %, one-year immutable cache",
            f"{share:.0f} %, {cache}",
            "yes" if share <= 25 and long_cache else "**no**",
        ]
    )
    hung_ok = hung["seconds"] <= 3 and hung["outcome"].isdigit()
    rows.append(
        [
            "`/health/` with a hung database ≤ 3 s",
            f"{fmt_s(hung['seconds'])} s ({hung['outcome']})",
            "yes" if hung_ok else "**no**",
        ]
    )
    return render_table(["target (generated site)", "measured", "met"], rows)


def machine_description(env: Environment) -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    wrk_version = (wrk.stdout or wrk.stderr).splitlines()[0].split("Copyright")[0].strip()
    return [
        f"- CPU: {model.group(1) if model else platform.processor()}, {os.cpu_count()} cores",
        f"- RAM: {mem_kb / 1024 / 1024:.1f} GiB; kernel {platform.release()}",
        f"- Python {env.python_version} (both sites); PostgreSQL {env.pg_version}; {wrk_version}",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
    ]


def main_notes(env, load, rounds, load_before, load_after, by_key) -> str:
    model = site_gunicorn_settings(env.site_dir, env.site_bin / "python", env.site_env())
    lines = [
        "Machine:",
        *machine_description(env),
        f"- load average (1, 5, 15 min) before: {load_before}; after: {load_after}",
        "",
        "Notes:",
        f"- Load: {load.describe()}, the same for every cell, through the edge's headers "
        f"(Host {PUBLIC_HOST}, X-Forwarded-Proto: https, Accept-Encoding: br, gzip); "
        f"{rounds} interleaved rounds (each path for every row before the next path, the order "
        "of the rows reversed every other round); each figure is the median of the rounds.",
        f"- Generated site: `gunicorn --config gunicorn.conf.py` with defaults "
        f"({model['workers']} workers × {model['threads']} threads, {model['worker_class']}).",
        "- Brief: its railway.toml start command (migrate, collectstatic, then gunicorn with its "
        "defaults: 1 sync worker), its production settings and health view, "
        f"{env.brief_pins_note}; base settings, URLs and page filled in as bench/brief.py says. "
        f"ALLOWED_HOSTS={PUBLIC_HOST},{PROBE_HOST} (with only the public domain, as in the "
        "brief, the probe gets 400).",
        "- Ceiling: bench/ceiling.py (fixed JSON body) under the site's gunicorn.conf.py.",
        "- Cold start: from the start command to the first 200 on `/health/` with Railway's probe "
        "(plain HTTP, Host healthcheck.railway.app); restart: the same after stopping it. "
        '"never (301)": the probe is redirected; the time with X-Forwarded-Proto: https follows.',
        "- RSS is the sum over the gunicorn master and workers (/proc/PID/status); PSS counts "
        "pages shared between them once, closer to what the container is billed for.",
        "- Hung database: the configuration started against a TCP server that accepts and never "
        "replies (the brief without its migrate step, which would hang first); one request to "
        "`/health/`.",
        f"- Bake: cookiecutter with the default answers, {env.bake_seconds:.2f} s.",
    ]
    admin = by_key["site"].results.get("admin_css_bytes")
    if admin:
        lines.append(
            f"- For scale, the admin's base.css on the site: {admin['packed']:,} of "
            f"{admin['plain']:,} bytes with br ({fmt_pct(admin['packed'], admin['plain'])})."
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- --compare


def worker_variant(worker_class: str, workers: int, threads: int) -> tuple[str, dict[str, str]]:
    """A label and the variables that run the site's gunicorn.conf.py with this worker model.

    GUNICORN_CMD_ARGS is gunicorn's own: it overrides the config file, as a Railway variable would.
    """
    env = {
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_CMD_ARGS": f"--worker-class {worker_class} --threads {threads}",
    }
    return f"{worker_class} {workers}×{threads}", env


#: (label, environment changes): the site under variants of its worker model.
VARIANTS = [
    worker_variant("sync", 2, 1),
    worker_variant("sync", 3, 1),
    worker_variant("gthread", 2, 2),
    worker_variant("gthread", 2, 4),
    worker_variant("gthread", 3, 2),
    worker_variant("gthread", 3, 4),
]

#: Settings modules for database variants the environment cannot express; each is written
#: into the site's folder as bench_db_<name>.py and chosen with DJANGO_SETTINGS_MODULE.
DB_SETTINGS = {
    "no_checks": "DATABASES['default']['CONN_HEALTH_CHECKS'] = False",
    "pool": (
        "DATABASES['default']['CONN_MAX_AGE'] = 0  # a pool requires 0\n"
        "DATABASES['default']['CONN_HEALTH_CHECKS'] = False\n"
        "DATABASES['default']['OPTIONS']['pool'] = {'min_size': 1, 'max_size': 4, 'timeout': 5}"
    ),
    # Django passes CONN_HEALTH_CHECKS to the pool as its check on every checkout.
    "pool_check": (
        "DATABASES['default']['CONN_MAX_AGE'] = 0\n"
        "DATABASES['default']['CONN_HEALTH_CHECKS'] = True\n"
        "DATABASES['default']['OPTIONS']['pool'] = {'min_size': 1, 'max_size': 4, 'timeout': 5}"
    ),
}


def settings_variant(name: str) -> dict[str, str]:
    return {"DJANGO_SETTINGS_MODULE": f"bench_db_{name}"}


#: Database reuse, each under the site's default worker model.
DB_VARIANTS = [
    ("no reuse (CONN_MAX_AGE=0)", {"DATABASE_CONN_MAX_AGE": "0"}),
    ("persistent 60 s + health checks", {"DATABASE_CONN_MAX_AGE": "60"}),
    ("persistent 60 s, no health checks", settings_variant("no_checks")),
    ("psycopg pool (1-4)", settings_variant("pool")),
    ("psycopg pool (1-4) + check", settings_variant("pool_check")),
]


#: A config file that loads the site's gunicorn.conf.py and turns its access log off.
NO_ACCESS_LOG_CONFIG = """\
# Written by bench/run.py --compare gunicorn: the site's settings without the access log.
exec(open("gunicorn.conf.py").read())
accesslog = None
"""

#: Process recycling and the access log, under the site's default worker model.
GUNICORN_VARIANTS = [
    ("defaults", {}),
    ("max_requests 10000", {"GUNICORN_CMD_ARGS": "--max-requests 10000"}),
    ("max_requests 0 (never)", {"GUNICORN_CMD_ARGS": "--max-requests 0"}),
    ("no access log", {"BENCH_GUNICORN_CONFIG": "bench_gunicorn_no_access_log.py"}),
    (
        "no access log, max_requests 10000",
        {
            "BENCH_GUNICORN_CONFIG": "bench_gunicorn_no_access_log.py",
            "GUNICORN_CMD_ARGS": "--max-requests 10000",
        },
    ),
]


def compare_run(
    env: Environment, load: LoadSettings, rounds: int, which: str, only: list[str]
) -> str:
    for name, code in DB_SETTINGS.items():
        module = (
            f"# Written by bench/run.py --compare.\nfrom {SLUG}.settings.production import *\n\n"
        )
        (env.site_dir / f"bench_db_{name}.py").write_text(module + code + "\n", encoding="utf-8")
    (env.site_dir / "bench_gunicorn_no_access_log.py").write_text(
        NO_ACCESS_LOG_CONFIG, encoding="utf-8"
    )
    variants = {"workers": VARIANTS, "database": DB_VARIANTS, "gunicorn": GUNICORN_VARIANTS}[which]
    if only:
        variants = [(label, changes) for label, changes in variants if label in only]
    paths = (
        [("/health/", "health")] if which == "database" else [("/health/", "health"), ("/", "page")]
    )
    servers = []
    for index, (label, changes) in enumerate(variants):
        config_file = changes.get("BENCH_GUNICORN_CONFIG", "gunicorn.conf.py")
        site_cmd = [str(env.site_bin / "gunicorn"), "--config", config_file]
        servers.append(
            (
                label,
                Server(
                    f"v{index}",
                    site_cmd,
                    env.site_dir,
                    env.site_env(**changes),
                    env.workdir / f"v{index}.log",
                ),
            )
        )
    samples: dict[tuple[str, str], list[dict]] = {}
    memory: dict[str, tuple] = {}
    try:
        for label, server in servers:
            server.start()
            timing = wait_healthy(server)
            if timing["probe"] is None:
                raise RuntimeError(f"{label} did not become healthy: {timing}; see {server.log}")
        for round_number in range(rounds):
            for path, kind in paths:
                order = servers if round_number % 2 == 0 else list(reversed(servers))
                for label, server in order:
                    print(f"round {round_number + 1} {label} {path} ...", flush=True)
                    samples.setdefault((label, kind), []).append(measure(server.port, path, load))
        for label, server in servers:
            memory[label] = server.memory_mb()
    finally:
        for _, server in servers:
            server.stop()

    def median(label: str, kind: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[(label, kind)])

    rows = []
    for label, _changes in variants:
        row = [label]
        for _path, kind in paths:
            rps = median(label, kind, "rps")
            row.append(fmt_rps(rps))
            row.append(
                f"{fmt_ms(median(label, kind, 'p50'))} / {fmt_ms(median(label, kind, 'p99'))}"
            )
        row.append(fmt_mb(memory[label][0]) + f" ({fmt_mb(memory[label][1])} PSS)")
        rows.append(row)
    headers = ["variant"]
    for path, _ in paths:
        headers += [f"`{path}` req/s"]
        headers += [f"`{path}` p50 / p99 ms"]
    headers.append("RSS after load, MB")
    title = (
        f"Median of {rounds} interleaved rounds, {load.describe()}; load average at the end "
        f"{load_average()}."
    )
    return title + "\n\n" + render_table(headers, rows)


# --------------------------------------------------------------------------- entry point


def write_docs(section: str, text: str) -> None:
    DOCS_FILE.parent.mkdir(parents=True, exist_ok=True)
    current = DOCS_FILE.read_text(encoding="utf-8") if DOCS_FILE.exists() else "# Benchmarks\n"
    DOCS_FILE.write_text(replace_section(current, section, text), encoding="utf-8")
    print(f"written to {DOCS_FILE.relative_to(REPO_DIR)} (section {section})", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--compare",
        choices=["workers", "database", "gunicorn"],
        help="compare variants of the site instead",
    )
    parser.add_argument("--only", default="", help="--compare: comma-separated variant labels")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of load (median)")
    parser.add_argument("--duration", type=int, default=8, help="seconds of load per cell")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per cell")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load = LoadSettings(args.duration, args.warmup, args.connections, args.threads)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="cfmp-bench-"))
    env = None
    try:
        env = prepare(workdir, with_pool=args.compare == "database")
        if args.compare:
            only = [label.strip() for label in args.only.split(",") if label.strip()]
            text = compare_run(env, load, args.rounds, args.compare, only)
            section = f"compare-{args.compare}"
        else:
            text = main_run(env, load, args.rounds)
            section = "main"
        print("\n" + text + "\n")
        print(f"(benchmark wall time {time.monotonic() - started:.0f} s)")
        if not args.no_write:
            write_docs(section, text)
    finally:
        if env is not None:
            for name in (env.site_db, env.brief_db):
                with contextlib.suppress(Exception):
                    database(env.site_bin, name, "drop")
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
