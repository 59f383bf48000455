"""Secrets stay secret: fresh keys per bake, ignored .env files, nothing leaks from a running site.

No secret value is ever printed: comparisons are reduced to booleans before they are asserted,
and failure messages pass through ``Site.hide``.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import stat
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from tests.support.baking import bake_into, project_files
from tests.support.combinations import IDS
from tests.support.databases import database_url
from tests.support.live_site import as_response, serve

SECRET_LINE = re.compile(r"^SECRET_KEY=(.*)$", re.MULTILINE)


def env_secret(project: Path) -> str:
    found = SECRET_LINE.findall((project / ".env").read_text(encoding="utf-8"))
    assert len(found) == 1, "the .env has no single SECRET_KEY line"
    return found[0]


def test_every_bake_writes_a_different_secret_key(tmp_path, cookiecutter_config):
    first = bake_into(tmp_path / "one", {}, cookiecutter_config)
    second = bake_into(tmp_path / "two", {}, cookiecutter_config)
    keys = [env_secret(first), env_secret(second)]
    same = keys[0] == keys[1]
    assert not same, "two bakes wrote the same SECRET_KEY"
    for project, key in zip((first, second), keys, strict=True):
        long_enough = len(key) >= 50 and len(set(key)) >= 20
        assert long_enough, "the SECRET_KEY is short or repetitive"
        assert not key.startswith("django-insecure"), "an insecure-looking SECRET_KEY"
        mode = stat.S_IMODE((project / ".env").stat().st_mode)
        assert mode == 0o600, f".env mode is {oct(mode)}"


@pytest.mark.parametrize("combination_id", IDS)
def test_env_files_are_git_ignored(get_baked, tmp_path, combination_id):
    git = shutil.which("git")
    assert git, "git is needed"
    project = tmp_path / "site"
    shutil.copytree(get_baked(combination_id), project)
    subprocess.run([git, "init", "-q", str(project)], check=True)

    def ignored(name: str) -> bool:
        proc = subprocess.run(
            [git, "-C", str(project), "check-ignore", "-q", "--no-index", name], check=False
        )
        assert proc.returncode in (0, 1), f"git check-ignore {name}: exit {proc.returncode}"
        return proc.returncode == 0

    for name in (".env", ".env.local", ".env.production", ".env.staging", "sub/.env"):
        assert ignored(name), f"{name} is not git-ignored"
    for name in (".env.example", ".env.production.example"):
        assert (project / name).is_file(), f"{name} is missing"
        assert not ignored(name), f"{name} is git-ignored but is documentation"
    # What `git add -A` would stage holds no .env with a real secret.
    staged = subprocess.run(
        [git, "-C", str(project), "add", "-A", "--dry-run"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "'.env'" not in staged, staged


PLACEHOLDER_PASSWORDS = {"postgres", "password", "pw", "p", "pass", "secret", "<password>"}
KNOWN_FORMATS = [
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    re.compile(r"\bsk_live_[A-Za-z0-9]{20,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"https://[0-9a-f]{32}@[a-z0-9.]*sentry\.io"),
]
URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^/\s@'\"]+)@")
RANDOM_LOOKING = re.compile(r"[A-Za-z0-9_+/-]{32,}")


def looks_random(token: str) -> bool:
    """Mixed-case letters and digits over 32+ characters: a generated key, not a word or hash."""
    return (
        bool(re.search(r"[A-Z]", token))
        and bool(re.search(r"[a-z]", token))
        and bool(re.search(r"\d", token))
        and len(set(token)) >= 16
    )


@pytest.mark.parametrize("combination_id", IDS)
def test_no_generated_file_holds_a_secret(get_baked, combination_id):
    project = get_baked(combination_id)
    key = env_secret(project)
    problems = []
    for path in project_files(project):
        name = str(path.relative_to(project))
        if name == ".env":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if key in text:
            problems.append(f"{name}: holds the .env SECRET_KEY")
        problems += [f"{name}: {p.pattern}" for p in KNOWN_FORMATS if p.search(text)]
        for password in URL_CREDENTIALS.findall(text):
            # "{password}" in an f-string is a name in the code, not a value.
            is_field = password.startswith("{") and password.endswith("}")
            if password.lower() not in PLACEHOLDER_PASSWORDS and not is_field:
                problems.append(f"{name}: a URL with a password that is not a placeholder")
        if any(looks_random(token) for token in RANDOM_LOOKING.findall(text)):
            problems.append(f"{name}: a random-looking token")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- running site


@pytest.fixture(scope="module")
def site(get_prepared):
    return get_prepared("default")


DEBUG_VARIABLES = {
    "DEBUG": "1",
    "DJANGO_DEBUG": "True",
    "DJANGO_DEBUG_MODE": "true",
    "DEBUG_MODE": "on",
    "DJANGO_SETTINGS_DEBUG": "yes",
    "TEMPLATE_DEBUG": "1",
}
READ_DEBUG = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps([settings.DEBUG, settings.TEMPLATES[0]['OPTIONS'].get('debug', False)]))"
)


@pytest.mark.slow
@pytest.mark.parametrize("variable", [None, *DEBUG_VARIABLES])
def test_debug_cannot_be_switched_on_in_production(site, variable):
    extra = dict(DEBUG_VARIABLES) if variable is None else {variable: DEBUG_VARIABLES[variable]}
    proc = subprocess.run(
        [str(site.python), "-c", READ_DEBUG],
        cwd=site.project,
        env={**site.env, "DJANGO_SETTINGS_MODULE": site.settings, **extra},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, site.hide(proc.stdout + proc.stderr)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [False, False], extra


def forbidden_texts(site, broken_url: str) -> dict[str, str]:
    """What must never reach a visitor: secrets, connection details, error text, versions."""
    parsed = urllib.parse.urlsplit(broken_url)
    versions = subprocess.run(
        [
            str(site.python),
            "-c",
            "import django, gunicorn, platform, psycopg; "
            "print(django.get_version(), gunicorn.__version__, platform.python_version(), "
            "psycopg.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    texts = {
        "the secret key": site.env["SECRET_KEY"],
        "the database password": parsed.password or "",
        "the database URL": broken_url,
        "the database name": parsed.path.lstrip("/"),
        "the database port": f":{parsed.port}",
        "the machine's host name": socket.gethostname(),
        "exception text": "Traceback",
        "an exception class": "OperationalError",
        "the driver": "psycopg",
        "a connection message": "connection to server",
    }
    for label, version in zip(("Django", "gunicorn", "Python", "psycopg"), versions, strict=True):
        texts[f"the {label} version"] = version
    return texts


@pytest.fixture(scope="module")
def broken_database_server(site):
    """The site started against a database that does not exist (wrong name, real password)."""
    password = "p" + site.secrets[1][::-1]  # another random value, registered as a secret
    site.secrets.append(password)
    url = database_url("cfmp_no_such_database_sec").replace(
        "://postgres@", f"://postgres:{password}@", 1
    )
    site.secrets.append(url)
    with serve(site, extra_env={"DATABASE_URL": url}) as running:
        yield running, url


@pytest.mark.slow
def test_error_pages_health_and_logs_expose_nothing(broken_database_server):
    server, url = broken_database_server
    site = server.site
    forbidden = forbidden_texts(site, url)

    health = server.request("/health/", https=False, headers={"Host": "healthcheck.railway.app"})
    assert health.status == 503, site.hide(health.body)
    assert json.loads(health.body)["status"] == "fail"
    live = server.request("/health/live/")
    assert live.status == 200
    not_found = server.request("/no-such-page/?q=%3Cscript%3E")
    assert not_found.status == 404
    assert "<script>" not in not_found.body

    # A form post that needs the database: the 500 page, as a visitor sees it.
    login = site.login(site.edge(), "someone", "x" * 12, form_from=server.instance)
    assert login.form.headers.get_all("Set-Cookie"), "the login form set no CSRF cookie"
    error = as_response(login.answer, f"https://{site.domain}{site.admin}login/")
    assert error.status == 500, site.hide(f"{error.status} {error.body[:1000]}")
    assert "Something went wrong" in error.body

    leaks = []
    for answer in (health, live, not_found, error):
        shown = answer.body + "\n" + "\n".join(f"{k}: {v}" for k, v in answer.headers)
        for label, text in forbidden.items():
            if text and text in shown:
                leaks.append(f"{answer.url} ({answer.status}) shows {label}")
    log = server.log_text()
    for label in ("the secret key", "the database password", "the database URL"):
        if forbidden[label] in log:
            leaks.append(f"the log shows {label}")
    assert not leaks, "\n".join(leaks)
    # The log is where the details go: the failure is recorded there, for the operator.
    assert "health check 'database' failed" in log, site.hide(log[-3000:])


@pytest.mark.slow
def test_pre_deploy_output_shows_no_secret(site):
    code, output = site.manage("deploy", "--dry-run")
    assert code == 0, site.hide(output)
    shown = [secret for secret in site.secrets if secret in output]
    assert not shown, "manage.py deploy printed a secret"
