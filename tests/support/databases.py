"""Throwaway PostgreSQL databases and Redis database numbers on the machine's shared servers.

The tests and the benchmark use the PostgreSQL at ``CFMP_TEST_POSTGRES_URL`` (default
127.0.0.1:5432, user postgres, trust auth) and the Redis at ``CFMP_TEST_REDIS_URL``. Names and
numbers carry ``CFMP_TEST_RUN_ID`` and ``CFMP_TEST_REDIS_OFFSET`` so that runs side by side on
one machine never share a database, and so do the pytest-xdist worker ids and numbers
(``PYTEST_XDIST_WORKER``) for the workers of one run.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support.combinations import COMBINATIONS, answer
from tests.support.processes import tail

POSTGRES_URL = os.environ.get("CFMP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_BASE_URL = os.environ.get("CFMP_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def database_name(combination_id: str) -> str:
    """Return a throwaway database name for a combination: cfmp_t_<id with underscores>.

    CFMP_TEST_RUN_ID (when set) and, under pytest-xdist, the worker id are appended, so runs side
    by side on one server (several checkouts, parallel workers) never share a database.
    """
    name = "cfmp_t_" + re.sub(r"[^a-z0-9]+", "_", combination_id.lower()).strip("_")
    for suffix in (
        os.environ.get("CFMP_TEST_RUN_ID", ""),
        os.environ.get("PYTEST_XDIST_WORKER", ""),
    ):
        if suffix:
            name += "_" + re.sub(r"[^a-z0-9]+", "_", suffix.lower())
    return name[:58]  # PostgreSQL's 63-byte limit, with room for Django's "test_" prefix


def database_url(name: str) -> str:
    """Return the URL of database ``name`` on the shared server."""
    return f"{POSTGRES_URL}/{name}"


#: Run by a site venv's python (it has psycopg): drop the database, create it afresh, and
#: print the server's version.
SQL_DATABASE = """
import sys, psycopg
url, name, action = sys.argv[1:4]
with psycopg.connect(url, autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if action == "create":
        conn.execute(f'CREATE DATABASE "{name}"')
    print(conn.execute("SHOW server_version").fetchone()[0])
"""


def manage_database(python: Path, name: str, action: str) -> str:
    """Create (``action="create"``, always fresh) or drop a throwaway database.

    ``python`` is a site venv's interpreter: the site's own psycopg does the work. Return the
    server's version (the benchmark prints it).
    """
    proc = subprocess.run(
        [str(python), "-c", SQL_DATABASE, database_url("postgres"), name, action],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise AssertionError(f"{action} database {name}:\n{tail(proc.stdout + proc.stderr)}")
    return proc.stdout.strip()


def xdist_worker_number() -> int:
    """Return this pytest-xdist worker's number (gw3 -> 3), 0 outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else 0


def redis_url(combination_id: str) -> str:
    """Return the URL of a Redis database number of its own for a combination that uses Redis.

    The combinations that use Redis are numbered in order, one block of numbers per pytest-xdist
    worker, so parallel workers never share a database; CFMP_TEST_REDIS_OFFSET (default 0)
    shifts every number for a second run side by side (modulo Redis's 16 databases). Raises
    ValueError for a combination without Redis.
    """
    users = [c.id for c in COMBINATIONS if answer(c.answers, "use_redis")]
    if combination_id not in users:
        raise ValueError(f"{combination_id} does not use Redis: it has no Redis database")
    offset = int(os.environ.get("CFMP_TEST_REDIS_OFFSET", "0"))
    index = offset + xdist_worker_number() * len(users) + users.index(combination_id)
    return f"{REDIS_BASE_URL}/{index % 16}"
