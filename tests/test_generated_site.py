"""Install each baked site from its own hashed lock and run it: tests, migrations, deploy checks.

Slow (installs the site's dependencies once per Python and lock; cached across runs under
~/.cache/cfmp-railway/venvs). Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from combinations import COMBINATIONS, answer, expected_slug
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

pytestmark = pytest.mark.slow

TIMEOUT = 600


@dataclass
class Site:
    combination_id: str
    project: Path
    python: Path
    slug: str
    env: dict[str, str]
    secrets: list[str] = field(default_factory=list)

    def run(self, *args: str, extra_env: dict[str, str] | None = None) -> tuple[int, str]:
        env = {**self.env, **(extra_env or {})}
        try:
            proc = subprocess.run(
                [str(self.python), *args],
                cwd=self.project,
                env=env,
                check=False,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            output = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode()
            pytest.fail(f"{' '.join(args)} timed out after {TIMEOUT} s:\n{self.show(output)}")
        return proc.returncode, proc.stdout

    def show(self, output: str) -> str:
        for secret in self.secrets:
            output = output.replace(secret, "***")
        return tail(output)


def clean_env(venv_python: Path) -> dict[str, str]:
    return {
        "PATH": f"{venv_python.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
    }


@pytest.fixture(scope="module")
def site(request, get_baked, tmp_path_factory):
    """A private copy of the baked project, its venv, a fresh database, and the environment."""
    combination = request.param
    answers = combination.answers
    wanted = answer(answers, "python_version")
    python, fell_back = python_for(wanted)
    if fell_back:
        print(f"using {python} instead of Python {wanted}")
    baked = get_baked(combination.id)
    project = tmp_path_factory.mktemp(f"site-{combination.id}") / baked.name
    shutil.copytree(baked, project, symlinks=True)
    venv_python = site_venv(project, python)

    name = database_name(combination.id)
    # Another pytest session on this machine may use the same database (and Redis) names:
    # take turns per combination rather than drop each other's databases.
    with file_lock(CACHE_DIR / "locks" / f"{name}.lock"):
        manage_database(venv_python, name, "create")
        env = clean_env(venv_python)
        env["DATABASE_URL"] = database_url(name)
        if answer(answers, "use_redis"):
            env["REDIS_URL"] = redis_url(combination.id)
        yield Site(combination.id, project, venv_python, expected_slug(answers), env)
        manage_database(venv_python, name, "drop")


def production_env(site: Site) -> dict[str, str]:
    key = secrets.token_urlsafe(50)
    site.secrets.append(key)
    return {
        "SECRET_KEY": key,
        "RAILWAY_PUBLIC_DOMAIN": f"{site.slug.replace('_', '-')}-production.up.railway.app",
    }


each_site = pytest.mark.parametrize(
    "site", COMBINATIONS, ids=[c.id for c in COMBINATIONS], indirect=True
)


@each_site
def test_site_test_suite(site):
    """The site's own tests pass on PostgreSQL (and Redis), without a SECRET_KEY."""
    assert "SECRET_KEY" not in site.env
    code, output = site.run("manage.py", "test", "--noinput", "-v", "2")
    shown = site.show(output)
    assert code == 0, f"manage.py test exited {code}:\n{shown}"
    assert re.search(r"^OK\b", output, re.MULTILINE), f"no OK line:\n{shown}"
    assert not re.search(r"\bskipped\b", output, re.IGNORECASE), f"tests were skipped:\n{shown}"
    ran = re.search(r"^Ran (\d+) tests?", output, re.MULTILINE)
    assert ran, f"no 'Ran N tests' line:\n{shown}"
    assert int(ran.group(1)) > 10, f"only {ran.group(1)} tests ran"
    test_database = f"test_{database_name(site.combination_id)}"
    assert test_database in output, f"the tests did not use PostgreSQL ({test_database}):\n{shown}"


@each_site
def test_site_has_no_missing_migrations(site):
    code, output = site.run("manage.py", "makemigrations", "--check", "--dry-run")
    assert code == 0, f"missing migrations (exit {code}):\n{site.show(output)}"


@each_site
def test_site_deploy_checks(site):
    """`check --deploy` with only what Railway provides: no warnings at all, none silenced."""
    settings = f"--settings={site.slug}.settings.production"
    code, output = site.run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        settings,
        extra_env=production_env(site),
    )
    shown = site.show(output)
    assert code == 0, f"check --deploy exited {code}:\n{shown}"
    assert "System check identified no issues (0 silenced)." in output, shown


@each_site
def test_site_collectstatic(site):
    """The build command's collectstatic works and writes the manifest (hashed names)."""
    settings = f"--settings={site.slug}.settings.production"
    code, output = site.run(
        "manage.py", "collectstatic", "--noinput", settings, extra_env=production_env(site)
    )
    shown = site.show(output)
    assert code == 0, f"collectstatic exited {code}:\n{shown}"
    manifest = site.project / "staticfiles" / "staticfiles.json"
    assert manifest.is_file(), f"no {manifest.relative_to(site.project)}:\n{shown}"
