"""The Railway configuration the site ships: IaC graph, railway.toml and Procfile.

Expectations come from the answers and the contract (/tmp/cfmp-contract.md, RAILWAY.md), not
from the generated files: build runs collectstatic, pre-deploy runs `manage.py deploy` with the
production settings, start runs gunicorn, healthcheck /health/ within Railway's 300 s limit,
restart on failure within the Free plan's 10 retries, secrets never written into the config.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest
import tomllib

from tests.support.combinations import (
    BY_ID,
    COMBINATIONS,
    answer,
    expected_slug,
)
from tests.support.railway_cli import domain_refusals, is_preserved
from tests.support.railway_config import graph_of
from tests.support.venvs import build_venv, python_for

IAC_COMBINATIONS = [c for c in COMBINATIONS if answer(c.answers, "railway_config") == "iac"]
TOML_COMBINATIONS = [c for c in COMBINATIONS if answer(c.answers, "railway_config") != "iac"]
DEPLOY_KEYS = (
    "startCommand",
    "preDeployCommand",
    "healthcheckPath",
    "healthcheckTimeout",
    "restartPolicyType",
    "restartPolicyMaxRetries",
)
SECRET_VARIABLE = re.compile(r"SECRET|PASSWORD|TOKEN|DSN|API_KEY|PRIVATE_KEY", re.IGNORECASE)


def ids(combinations):
    return [c.id for c in combinations]


def nodes(graph: dict[str, Any]) -> list[dict[str, Any]]:
    return list(graph.get("resources", []))


def web_node(graph: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    name = answer(answers, "railway_service_name")
    found = [n for n in nodes(graph) if n.get("type") == "service" and n.get("name") == name]
    assert len(found) == 1, (
        f"expected one service named {name!r}, got {[n.get('name') for n in nodes(graph)]}"
    )
    return found[0]


def databases(graph: dict[str, Any], engine: str) -> list[dict[str, Any]]:
    return [n for n in nodes(graph) if n.get("type") == "database" and n.get("engine") == engine]


def procfile(project: Path) -> dict[str, str]:
    entries = {}
    for line in (project / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            kind, _, command = line.partition(":")
            entries[kind.strip()] = command.strip()
    return entries


def check_web_config(build: dict[str, Any], deploy: dict[str, Any], answers: dict[str, Any]):
    """What both the IaC web node and railway.toml must say (contract + Railway limits)."""
    slug = expected_slug(answers)
    settings = f"--settings={slug}.settings.production"
    command = build.get("buildCommand", "")
    assert "collectstatic" in command, f"build does not collect static files: {command!r}"
    assert settings in command, f"build does not use the production settings: {command!r}"
    assert deploy.get("preDeployCommand") == [f"python manage.py deploy {settings}"]
    start = deploy.get("startCommand", "")
    assert start.startswith("gunicorn"), f"start command is not gunicorn: {start!r}"
    assert "migrate" not in start and "collectstatic" not in start, (
        "start must not migrate or collect static files (slow restarts, every replica migrates)"
    )
    assert deploy.get("healthcheckPath") == "/health/"
    timeout = deploy.get("healthcheckTimeout")
    assert isinstance(timeout, int) and not isinstance(timeout, bool)
    assert 0 < timeout <= 300, f"healthcheckTimeout {timeout} outside Railway's 1..300 s"
    assert deploy.get("restartPolicyType") == "ON_FAILURE"
    retries = deploy.get("restartPolicyMaxRetries")
    assert isinstance(retries, int) and not isinstance(retries, bool)
    assert 1 <= retries <= 10, f"restartPolicyMaxRetries {retries} outside 1..10 (Free plan cap)"


def looks_like_secret(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if "django-insecure" in value:
        return True
    if re.search(r"://[^/\s:@]+:[^/\s@]+@", value):  # credentials inside a URL
        return True
    token = re.fullmatch(r"[A-Za-z0-9+/=_\-!@#$%^&*()]{32,}", value)
    if token:
        classes = sum(
            bool(re.search(pattern, value))
            for pattern in ("[a-z]", "[A-Z]", "[0-9]", r"[^A-Za-z0-9]")
        )
        return classes >= 3
    return False


def walk_variables(graph: dict[str, Any]):
    for node in nodes(graph):
        for key, value in (node.get("variables") or {}).items():
            yield node.get("name"), key, value


# --------------------------------------------------------------------------- IaC graph


@pytest.mark.parametrize("combination", IAC_COMBINATIONS, ids=ids(IAC_COMBINATIONS))
def test_iac_web_service(combination, get_baked):
    answers = combination.answers
    graph = graph_of(get_baked(combination.id))
    web = web_node(graph, answers)

    # No source: Railway cannot deploy a push by itself (only `railway up` deploys, once), and
    # creating the service deploys nothing before SECRET_KEY is set.
    assert "source" not in web, f"the web service has a source: {web['source']}"
    assert web.get("kind") == "empty"

    check_web_config(web.get("build") or {}, web.get("deploy") or {}, answers)


@pytest.mark.parametrize("combination", IAC_COMBINATIONS, ids=ids(IAC_COMBINATIONS))
def test_iac_services_and_variables(combination, get_baked):
    answers = combination.answers
    graph = graph_of(get_baked(combination.id))
    web = web_node(graph, answers)
    variables = web.get("variables") or {}

    postgres = databases(graph, "postgres")
    assert len(postgres) == 1, "expected exactly one PostgreSQL database"
    assert variables.get("DATABASE_URL") == {
        "type": "reference",
        "resource": postgres[0]["address"],
        "output": "DATABASE_URL",
    }

    assert variables.get("SECRET_KEY") == {"type": "preserve"}

    redis = databases(graph, "redis")
    if answer(answers, "use_redis"):
        assert len(redis) == 1, "use_redis: expected one Redis service"
        assert variables.get("REDIS_URL") == {
            "type": "reference",
            "resource": redis[0]["address"],
            "output": "REDIS_URL",
        }
    else:
        assert not redis, "no Redis service without use_redis"
        assert "REDIS_URL" not in variables

    buckets = [node for node in graph.get("resources", []) if node.get("type") == "bucket"]
    if answer(answers, "media_storage") == "bucket":
        assert len(buckets) == 1, "media_storage=bucket: expected one Storage Bucket"
        for name in BUCKET_VARIABLES:
            assert variables.get(name) == {
                "type": "reference",
                "resource": buckets[0]["address"],
                "output": name,
            }, f"{name} is not a reference to the bucket: {variables.get(name)}"
    else:
        assert not buckets, "no bucket without media_storage=bucket"
        assert not set(BUCKET_VARIABLES) & set(variables)


@pytest.mark.parametrize("combination", IAC_COMBINATIONS, ids=ids(IAC_COMBINATIONS))
def test_iac_holds_no_secrets(combination, get_baked):
    graph = graph_of(get_baked(combination.id))
    problems = []
    for node, key, value in walk_variables(graph):
        kind = value.get("type") if isinstance(value, dict) else None
        literal = value.get("value") if isinstance(value, dict) else value
        referenced = kind in {"preserve", "reference", "sharedReference"}
        if SECRET_VARIABLE.search(key) and not referenced and literal not in (None, ""):
            problems.append(f"{node}.{key} is set to a literal ({kind})")
        if looks_like_secret(literal):
            problems.append(f"{node}.{key} holds a value that looks like a secret")

    def scan(value, where):
        if isinstance(value, dict):
            for k, v in value.items():
                scan(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                scan(v, f"{where}[{i}]")
        elif looks_like_secret(value):
            problems.append(f"{where} looks like a secret")

    scan(graph, "graph")
    assert not problems, "\n".join(problems)


def test_secret_detector_can_fail():
    """The detector used above flags what it should (so the test above can fail)."""
    assert looks_like_secret("django-insecure-abc")
    assert looks_like_secret("postgres://user:hunter2@db:5432/x")
    assert looks_like_secret("Zq8_kP3-vR7xLm2NwT5yBc9HdJ4fGs6A1e0uYiOo")
    assert not looks_like_secret("python manage.py deploy --settings=cfmp.settings.production")
    assert not looks_like_secret("ghcr.io/railwayapp-templates/postgres-ssl:18")


@pytest.mark.parametrize("combination", IAC_COMBINATIONS, ids=ids(IAC_COMBINATIONS))
def test_procfile_matches_iac(combination, get_baked):
    project = get_baked(combination.id)
    deploy = web_node(graph_of(project), combination.answers).get("deploy") or {}
    entries = procfile(project)
    assert entries.get("web") == deploy.get("startCommand")
    assert [entries.get("release")] == deploy.get("preDeployCommand")


# --------------------------------------------------------------------------- railway.toml


def load_toml(project: Path) -> dict[str, Any]:
    path = project / "railway.toml"
    assert path.is_file(), "no railway.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def find_key(value: Any, wanted: str, where: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, child in value.items():
            here = f"{where}.{key}" if where else key
            if key == wanted:
                found.append(here)
            found.extend(find_key(child, wanted, here))
    return found


@pytest.mark.parametrize("combination", TOML_COMBINATIONS, ids=ids(TOML_COMBINATIONS))
def test_railway_toml(combination, get_baked):
    project = get_baked(combination.id)
    config = load_toml(project)
    check_web_config(config.get("build") or {}, config.get("deploy") or {}, combination.answers)
    variables = find_key(config, "variables")
    assert not variables, f"Railway never reads variables from railway.toml: {variables}"
    assert not (project / ".railway").exists(), "legacy answer must not ship the IaC folder"


@pytest.mark.parametrize("combination", TOML_COMBINATIONS, ids=ids(TOML_COMBINATIONS))
def test_procfile_matches_railway_toml(combination, get_baked):
    project = get_baked(combination.id)
    deploy = load_toml(project).get("deploy") or {}
    entries = procfile(project)
    assert entries.get("web") == deploy.get("startCommand")
    assert [entries.get("release")] == deploy.get("preDeployCommand")


PAIRS = [
    ("default", "railway.toml"),
    ("hostile-name-py313", "railway.toml"),
    ("legacy-railway-toml", "iac"),
]


@pytest.mark.parametrize(("combination_id", "other"), PAIRS, ids=[p[0] for p in PAIRS])
def test_iac_and_railway_toml_say_the_same(combination_id, other, get_baked):
    """Bake both variants with otherwise equal answers: same build and deploy settings."""
    first = get_baked(combination_id)
    second = get_baked(combination_id, railway_config=other)
    if answer(BY_ID[combination_id].answers, "railway_config") == "iac":
        iac_project, toml_project = first, second
        answers = BY_ID[combination_id].answers
    else:
        iac_project, toml_project = second, first
        answers = {**BY_ID[combination_id].answers, "railway_config": other}

    web = web_node(graph_of(iac_project), answers)
    config = load_toml(toml_project)
    assert (web.get("build") or {}).get("buildCommand") == (config.get("build") or {}).get(
        "buildCommand"
    )
    iac_deploy, toml_deploy = web.get("deploy") or {}, config.get("deploy") or {}
    for key in DEPLOY_KEYS:
        assert key in iac_deploy, f"IaC web deploy has no {key}"
        assert iac_deploy.get(key) == toml_deploy.get(key), f"{key} differs"
    check_web_config(config.get("build") or {}, toml_deploy, answers)


# --------------------------------------------------------------------------- the CLI's plan rules

#: Run in the site's venv from the project root: import the production settings, the WSGI
#: application and gunicorn.conf.py with every optional branch switched on, and print the names
#: of the variables the site's own code read (not Django's), plus the hosts it allows.
READ_VARIABLES = r"""
import json, os, runpy, sys
from pathlib import Path

root = str(Path.cwd().resolve())
read = set()


class RecordingEnviron(dict):
    def _note(self, key):
        caller = os.path.realpath(sys._getframe(2).f_code.co_filename)
        if isinstance(key, str) and caller.startswith(root + os.sep) and os.path.isfile(caller):
            read.add(key)

    def get(self, key, default=None):
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)


os.environ = RecordingEnviron(os.environ)
import django
from django.conf import settings

slug = sys.argv[1]
__import__(f"{slug}.wsgi")
runpy.run_path("gunicorn.conf.py")
print(json.dumps({
    "read": sorted(read),
    "allowed_hosts": list(settings.ALLOWED_HOSTS),
    "csrf_trusted_origins": list(settings.CSRF_TRUSTED_ORIGINS),
}))
"""
#: Set so that every optional branch of the settings runs (and so reads its variables).
OPTIONAL_BRANCHES = {
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_HOST": "smtp.invalid",
    "EMAIL_API_KEY": "unused",
    "SENTRY_DSN": "https://public@127.0.0.1:9/1",
    # A media_storage=bucket site requires these (read only there; nothing connects).
    **{name: "unused" for name in ("BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "REGION")},
    "ENDPOINT": "https://storage.railway.app",
}
#: What a Railway Storage Bucket gives a service by reference (docs: storage-buckets).
BUCKET_VARIABLES = ("BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "REGION", "ENDPOINT")


def injected_by_railway(name: str) -> bool:
    """Return True for a variable Railway sets on every deployment (never a service variable)."""
    return name == "PORT" or name.startswith("RAILWAY_")


def production_reads(project: Path, answers: dict[str, Any]) -> dict[str, Any]:
    """Return what the production site reads from the environment and the hosts it allows."""
    python, _ = python_for(answer(answers, "python_version"))
    venv_python = build_venv(project, python)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONDONTWRITEBYTECODE": "1",  # the baked folder is shared: leave it as baked
        "DJANGO_SETTINGS_MODULE": f"{expected_slug(answers)}.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
        "RAILWAY_PUBLIC_DOMAIN": "example.up.railway.app",
        **OPTIONAL_BRANCHES,
    }
    proc = subprocess.run(
        [str(venv_python), "-c", READ_VARIABLES, expected_slug(answers)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("combination", IAC_COMBINATIONS, ids=ids(IAC_COMBINATIONS))
def test_plan_registers_no_custom_domain(combination, get_baked):
    """`railway config plan` refuses a custom domain the service lacks: the file declares none."""
    graph = graph_of(get_baked(combination.id))
    assert domain_refusals(graph) == []


def test_domain_rule_can_fail():
    """A graph that declares a domain is refused, as the CLI refuses it (unless it exists)."""
    graph = {
        "resources": [
            {
                "address": "service.web",
                "type": "service",
                "networking": {"customDomains": {"food.example.org": {"port": 8080}}},
            }
        ]
    }
    [refusal] = domain_refusals(graph)
    assert "Custom-domain registration is not supported" in refusal
    assert "food.example.org" in refusal
    assert domain_refusals(graph, existing=["food.example.org"]) == []


@pytest.mark.slow
@pytest.mark.parametrize("combination", IAC_COMBINATIONS, ids=ids(IAC_COMBINATIONS))
def test_apply_deletes_no_variable_the_site_reads(combination, get_baked):
    """Every variable the production site reads is in the file (value, reference or preserve()),
    so `railway config apply` deletes none a user set; and the file lists none it never reads.
    The custom domain from the answers is still an allowed host and a trusted CSRF origin."""
    answers = combination.answers
    project = get_baked(combination.id)
    reads = production_reads(project, answers)
    read = {name for name in reads["read"] if not injected_by_railway(name)}
    for must in ("SECRET_KEY", "DATABASE_URL", "WEB_CONCURRENCY", "DJANGO_ALLOWED_HOSTS"):
        assert must in read, f"the recorder missed {must}: {sorted(read)}"

    declared = web_node(graph_of(project), answers).get("variables") or {}
    deleted = sorted(read - set(declared))
    assert not deleted, f"`railway config apply` would delete these if you set them: {deleted}"
    unread = sorted(set(declared) - read - {"PORT"})
    assert not unread, f"the file declares variables the site never reads: {unread}"
    for name in read - {"DATABASE_URL", "REDIS_URL", *BUCKET_VARIABLES}:
        assert is_preserved(declared[name]), f"{name} is not preserve()d: {declared[name]}"

    domain = answer(answers, "custom_domain")
    if domain:
        assert domain in reads["allowed_hosts"]
        assert f"https://{domain}" in reads["csrf_trusted_origins"]


# --------------------------------------------------------------------------- one deploy per push


def workflow(project: Path) -> dict[str, Any]:
    import yaml

    path = project / ".github" / "workflows" / "deploy.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("combination", COMBINATIONS, ids=ids(COMBINATIONS))
def test_one_deploy_per_push(combination, get_baked):
    """A push deploys each service once, after the tests, in a job with a timeout (a replaced
    deployment never ends the wait): `railway up --ci` for web and for the task worker, and an
    upload for the housekeeping cron service; the IaC service has no source Railway could
    autodeploy from. The tests run on Railway's PostgreSQL, 18."""
    project = get_baked(combination.id)
    jobs = workflow(project)["jobs"]
    uploads = [
        (name, step["run"])
        for name, job in jobs.items()
        for step in job.get("steps", [])
        if "railway up" in step.get("run", "")
    ]
    service = answer(combination.answers, "railway_service_name")
    by_service = {command.split()[-1]: (name, command.split()) for name, command in uploads}
    iac = answer(combination.answers, "railway_config") == "iac"
    # railway.toml sites create the cron service by hand (site README, "Housekeeping").
    expected = {service, "worker"} | ({f"{service}-housekeeping"} if iac else set())
    assert len(uploads) == len(expected) and set(by_service) == expected, uploads
    job_name, command = by_service[service]
    assert command == ["railway", "up", "--ci", "--service", service]
    assert by_service["worker"] == (job_name, ["railway", "up", "--ci", "--service", "worker"])
    if iac:
        # The cron service only needs its image uploaded: nothing to wait for until its schedule.
        assert by_service[f"{service}-housekeeping"] == (
            job_name,
            ["railway", "up", "--detach", "--service", f"{service}-housekeeping"],
        )
    job = jobs[job_name]
    assert job.get("needs") == "test"
    assert 0 < job.get("timeout-minutes", 0) <= 30
    assert jobs["test"]["services"]["postgres"]["image"] == "postgres:18"

    if iac:
        web = web_node(graph_of(project), combination.answers)
        assert "source" not in web, "a GitHub source would make Railway deploy each push too"
