"""Throwaway PostgreSQL databases and Redis database numbers on the machine's shared servers.

The tests and the benchmark use the PostgreSQL at ``CFMP_TEST_POSTGRES_URL`` (default
127.0.0.1:5432, user postgres, trust auth) and the Redis at ``CFMP_TEST_REDIS_URL``. Names and
numbers carry ``CFMP_TEST_RUN_ID`` and ``CFMP_TEST_REDIS_OFFSET`` so that runs side by side on
one machine never share a database.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support.combinations import BY_ID
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


def redis_url(combination_id: str) -> str:
    """Return the URL of a Redis database number of its own for a combination.

    CFMP_TEST_REDIS_OFFSET (default 0) shifts the numbers for a second run side by side.
    """
    offset = int(os.environ.get("CFMP_TEST_REDIS_OFFSET", "0"))
    index = (list(BY_ID).index(combination_id) + offset) % 16
    return f"{REDIS_BASE_URL}/{index}"
