"""The configurations the benchmark measures, and how each is installed and started.

``prepare`` bakes the default site, installs it from its hashed lock, runs its build and
pre-deploy commands against a throwaway database, and rebuilds the brief's project
(``bench/brief.py``) beside it. ``main_configs`` are the rows of the main table (the site, the
brief, the brief with the site's workers, the bare WSGI ceiling); ``VARIANTS``, ``DB_VARIANTS``
and ``GUNICORN_VARIANTS`` are the rows of ``--compare``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import brief
from bench.load import PROBE_HOST, PUBLIC_HOST
from tests.support.baking import bake_into
from tests.support.databases import database_name, database_url, manage_database
from tests.support.processes import CACHE_DIR, free_port, tail
from tests.support.railway_emulator import Instance
from tests.support.venvs import build_venv, python_for

BENCH_DIR = Path(__file__).resolve().parent
#: The benchmark's venvs, apart from the tests' (the same builder, another folder).
VENVS_DIR = CACHE_DIR / "bench"
SLUG = "cfmp"  # the default answers' package name
PSYCOPG_POOL = "psycopg-pool==3.3.3"  # only for the --compare variant that tries the pool


def _process_table() -> dict[int, int]:
    """Return pid -> parent pid for every process visible in /proc."""
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


class Server(Instance):
    """One configuration's processes: its start command run like a replica (``Instance``).

    Adds what the benchmark reads about a running gunicorn: its processes and their memory.
    Each start takes a new free port.
    """

    def __init__(self, name: str, command: str, cwd: Path, env: dict[str, str], log: Path):
        super().__init__(name, command, cwd, {**env, "PORT": str(free_port())}, log)

    def start(self) -> Server:
        self.port = free_port()
        self.env = {**self.env, "PORT": str(self.port)}
        return super().start()

    def gunicorn_pids(self) -> list[int]:
        """Return the gunicorn master and workers under this server (a shell may sit above)."""
        if self.proc is None:
            return []
        parents = _process_table()
        family, frontier = set(), {self.proc.pid}
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
        """Return (RSS total, PSS total, process count) of the gunicorn processes, in MB."""
        pids = self.gunicorn_pids()
        rss = sum(_proc_kb(pid, "status", "VmRSS") for pid in pids)
        pss = sum(_proc_kb(pid, "smaps_rollup", "Pss") for pid in pids)
        return rss / 1024, pss / 1024, len(pids)


def run(command: list[str], cwd: Path | None = None, env: dict | None = None, timeout=1200):
    """Run ``command`` to completion; return its output, or raise with the end of it."""
    proc = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        output = tail(proc.stdout + proc.stderr)
        raise RuntimeError(f"{shlex.join(command)} exited {proc.returncode}:\n{output}")
    return proc.stdout


def bake(output_dir: Path) -> tuple[Path, float]:
    """Bake the default answers with cookiecutter; return (project folder, seconds)."""
    user = output_dir / "cookiecutter-user"
    (user / "replay").mkdir(parents=True)
    config = user / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: {user / 'templates'}\nreplay_dir: {user / 'replay'}\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    project = bake_into(output_dir / "site", {}, config)
    return project, time.monotonic() - started


def base_env(bin_dir: Path) -> dict[str, str]:
    """Return the environment every configuration starts from: its venv first on PATH."""
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "VIRTUAL_ENV": str(bin_dir.parent),
    }


def site_gunicorn_settings(site_dir: Path, python: Path, env: dict[str, str]) -> dict:
    """Return workers, worker_class and threads as gunicorn.conf.py sets them for ``env``.

    Read in the site's own Python: gunicorn.conf.py reads its variables through the site's
    settings package, which imports Django.
    """
    script = (
        "import json, runpy; v = runpy.run_path('gunicorn.conf.py');"
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


@dataclass
class Config:
    key: str
    title: str
    server: Server
    hung_command: str | None = None  # how to start it against the hung database
    results: dict = field(default_factory=dict)


@dataclass
class Environment:
    """Everything a run installs once: both projects, their venvs and databases."""

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
            DATABASE_URL=database_url(self.site_db),
            RAILWAY_PUBLIC_DOMAIN=PUBLIC_HOST,
        )
        env.update(changes)
        return env

    def brief_env(self, **changes: str) -> dict[str, str]:
        env = base_env(self.brief_bin)
        env.update(
            SECRET_KEY=self.secret,
            DATABASE_URL=database_url(self.brief_db),
            DJANGO_SETTINGS_MODULE="cfmp.settings.production",
            DEBUG="False",
            # The brief's .env lists only the public domain; with only that, Railway's probe gets
            # 400 and nothing can be timed. The probe's host is added (the fix a user would make).
            ALLOWED_HOSTS=f"{PUBLIC_HOST},{PROBE_HOST}",
        )
        env.update(changes)
        return env


def prepare(workdir: Path, with_pool: bool = False) -> Environment:
    """Bake, install, build and pre-deploy the site and rebuild the brief; return all of it."""
    print("baking the default site ...", flush=True)
    site_dir, bake_seconds = bake(workdir)
    version = (site_dir / ".python-version").read_text().strip()
    python, _ = python_for(version)
    print(f"installing the site's hashed lock ({python}) ...", flush=True)
    extra = (PSYCOPG_POOL,) if with_pool else ()
    site_python = build_venv(site_dir, python, "requirements.txt", VENVS_DIR, extra=extra)
    site_bin = site_python.parent
    print("rebuilding the brief's project and installing its pins ...", flush=True)
    brief_dir = brief.build_brief_project(workdir / "brief", site_dir / SLUG)
    brief_bin = build_venv(brief_dir, python, "requirements.txt", VENVS_DIR, hashed=False).parent
    python_version = run(
        [str(site_bin / "python"), "-c", "import platform; print(platform.python_version())"]
    ).strip()
    site_db, brief_db = database_name("bench-site"), database_name("bench-brief")
    pg_version = manage_database(site_python, site_db, "create")
    manage_database(site_python, brief_db, "create")
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
    """Return the rows of the main table: site, brief, brief with the site's workers, ceiling."""
    logs = env.workdir
    site_cmd = shlex.join([str(env.site_bin / "gunicorn"), "--config", "gunicorn.conf.py"])
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
            brief.START_COMMAND,
            env.brief_dir,
            env.brief_env(),
            logs / "brief.log",
        ),
        hung_command=brief.GUNICORN_COMMAND,
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
            brief.START_COMMAND + extra,
            env.brief_dir,
            env.brief_env(),
            logs / "brief_w.log",
        ),
        hung_command=brief.GUNICORN_COMMAND + extra,
    )
    ceiling_cmd = shlex.join(
        [
            str(env.site_bin / "gunicorn"),
            "--config",
            "gunicorn.conf.py",
            "--pythonpath",
            str(BENCH_DIR),
            "ceiling:application",
        ]
    )
    ceiling = Config(
        "ceiling",
        "bare WSGI (ceiling)",
        Server("ceiling", ceiling_cmd, env.site_dir, env.site_env(), logs / "ceiling.log"),
    )
    return [site, brief_cfg, brief_w, ceiling]


def worker_variant(worker_class: str, workers: int, threads: int) -> tuple[str, dict[str, str]]:
    """Return a label and the variables that run gunicorn.conf.py with this worker model.

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
    """Return the variables that choose the settings module ``bench_db_<name>``."""
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
# Written by python -m bench --compare gunicorn: the site's settings without the access log.
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
