"""Mail through an e-mail API, sent by the task worker: the api-mail site on the emulated Railway.

The site's web service queues each mail as a task in PostgreSQL; its worker service (the IaC
file's ``worker``: same build and variables, its own start command) sends it through
django-anymail to ``tests/support/mail_provider.py``, a stand-in for the provider's HTTPS API
on loopback. The worker's behaviour on SIGTERM and SIGKILL is django-tasks-db's (see the site's
``manage.py worker``). Figures are printed with ``-s``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.support.combinations import answer, combination
from tests.support.live_site import CSRF_FIELD, Site, serve
from tests.support.mail_provider import MailProvider
from tests.support.processes import kill_group, tail
from tests.support.railway_config import graph_of
from tests.support.railway_emulator import Deployment, Instance, read_config

COMBINATION = "api-mail"
WORKER = "worker"
#: Seconds one delivery attempt may take (EMAIL_TIMEOUT): short, so "no answer" fails fast.
EMAIL_TIMEOUT = 2
#: EMAIL_TIMEOUT's default, as the site's README documents it.
DEFAULT_EMAIL_TIMEOUT = 10
#: How long a test waits for something the worker does (well above every figure measured).
PATIENCE = 30.0

#: Run by the site's python (it has psycopg): the task table's rows, or empty it.
TASK_TABLE = """
import json, sys, psycopg
with psycopg.connect(sys.argv[1]) as conn:
    if sys.argv[2] == "clear":
        conn.execute("DELETE FROM django_tasks_database_dbtaskresult")
    rows = conn.execute(
        "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult ORDER BY enqueued_at"
    ).fetchall()
print(json.dumps(rows))
"""


def figure(name: str, value: float, unit: str = "s") -> None:
    print(f"\nFIGURE {name}: {value:.3f} {unit}")


@pytest.fixture(scope="module")
def provider() -> Iterator[MailProvider]:
    with MailProvider() as server:
        yield server


@pytest.fixture(scope="module")
def site(get_prepared, provider) -> Site:
    prepared = get_prepared(COMBINATION)
    prepared.secrets.append(api_key(prepared))
    return prepared


def api_key(site: Site) -> str:
    """Return this site's (made-up) provider key, the same for every process of the module."""
    if not hasattr(site, "_mail_api_key"):
        site._mail_api_key = "re_" + secrets.token_urlsafe(24)  # noqa: SLF001
    return site._mail_api_key  # noqa: SLF001


def mail_variables(site: Site, provider: MailProvider, **extra: str) -> dict[str, str]:
    """Return the variables a user sets for the e-mail API, pointed at the stand-in."""
    return {
        "EMAIL_API_KEY": api_key(site),
        "EMAIL_API_URL": provider.url,
        "EMAIL_TIMEOUT": str(EMAIL_TIMEOUT),
        "WORKER_INTERVAL": "0.1",
        **extra,
    }


@pytest.fixture(scope="module")
def worker_deployment(site: Site) -> Iterator[Deployment]:
    """Return the worker service: the site's image and variables, the IaC worker's commands."""
    config = read_config(site.project, WORKER)
    variables = {**site.deployment.variables, "RAILWAY_SERVICE_NAME": WORKER}
    deployment = Deployment(
        name=f"{COMBINATION}-{WORKER}",
        image=site.project,
        bin_dir=site.deployment.bin_dir,
        config=config,
        variables=variables,
        workdir=site.deployment.workdir,
        secrets=site.secrets,
    )
    yield deployment
    deployment.close()


@pytest.fixture(scope="module")
def worker(site, worker_deployment, provider) -> Instance:
    """Return the worker service's replica, started as the emulator starts every service."""
    instance = worker_deployment.instance("worker-1", **mail_variables(site, provider)).start()
    wait_until(
        lambda: "Starting worker" in instance.log_text() or not instance.running(),
        PATIENCE,
        "the worker starts",
    )
    assert instance.running(), site.show(instance.log_text())
    return instance


@pytest.fixture
def lone_worker(worker_deployment) -> None:
    """Stop the worker service's replica: the test's own worker is the only one taking tasks."""
    worker_deployment.close()


@pytest.fixture(scope="module")
def web(site, provider):
    with serve(site, mail_variables(site, provider)) as server:
        yield server


def task_rows(site: Site, action: str = "read") -> list[tuple[str, list[str]]]:
    """Return (status, worker ids) of every task in the site's queue, oldest first."""
    proc = subprocess.run(
        [str(site.python), "-c", TASK_TABLE, site.env["DATABASE_URL"], action],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, site.show(proc.stderr)
    return [(status, ids) for status, ids in json.loads(proc.stdout)]


def clear_tasks(site: Site) -> None:
    assert task_rows(site, "clear") == []


def statuses(site: Site) -> list[str]:
    return [status for status, _ in task_rows(site)]


def wait_until(check, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s: {what}")


def request_password_reset(site: Site, web, email: str) -> float:
    """Ask for a password reset through the edge, as a browser does; return the POST's seconds."""
    edge = site.edge()
    path = f"{site.admin}password_reset/"
    form = edge.request(web.instance, path)
    assert form.status == 200, site.show(form.text)
    token = CSRF_FIELD.search(form.text)
    assert token, "no CSRF token in the password reset form"
    started = time.monotonic()
    posted = edge.request(
        web.instance,
        path,
        method="POST",
        headers={"Origin": edge.origin, "Referer": edge.origin + path},
        form={"csrfmiddlewaretoken": token.group(1), "email": email},
        timeout=EMAIL_TIMEOUT + 5,
    )
    seconds = time.monotonic() - started
    assert posted.status == 302, site.show(posted.text)
    assert posted.header("Location").endswith(f"{path}done/")
    return seconds


@pytest.fixture(scope="module")
def user_email(site) -> str:
    site.create_superuser("mailuser")
    return "mailuser@example.org"


@contextlib.contextmanager
def worker_process(site: Site, deployment: Deployment, provider, **extra: str):
    """Run the worker's start command as the container's main process (no shell in between)."""
    env = deployment.environment(PORT=None, **mail_variables(site, provider, **extra))
    log = deployment.workdir / f"worker-{secrets.token_hex(3)}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            shlex.split(deployment.config.start_command),
            cwd=deployment.image,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    proc.log = log
    try:
        wait_until(
            lambda: "Starting worker" in log.read_text(errors="replace") or proc.poll() is not None,
            PATIENCE,
            "the worker starts",
        )
        assert proc.poll() is None, site.show(log.read_text(errors="replace"))
        yield proc
    finally:
        kill_group(proc, signal.SIGKILL)
        proc.wait(timeout=10)


def log_of(proc) -> str:
    return proc.log.read_text(errors="replace")


# --------------------------------------------------------------------------- configuration


def test_iac_worker_service_shares_build_and_variables(get_baked):
    project = get_baked(COMBINATION)
    graph = graph_of(project)
    services = {node["name"]: node for node in graph["resources"] if node.get("type") == "service"}
    web_name = answer(combination(COMBINATION).answers, "railway_service_name")
    assert set(services) == {web_name, WORKER, f"{web_name}-housekeeping"}
    web, worker = services[web_name], services[WORKER]
    assert worker["build"] == web["build"]
    assert worker["variables"] == web["variables"]
    for name in ("EMAIL_PROVIDER", "EMAIL_API_KEY", "EMAIL_API_URL", "EMAIL_TIMEOUT"):
        assert worker["variables"][name] == {"type": "preserve"}, name
    deploy = worker.get("deploy") or {}
    assert "healthcheckPath" not in deploy, "the worker serves no HTTP: no healthcheck path"
    assert "preDeployCommand" not in deploy, "only web migrates"
    assert "source" not in worker and not worker.get("domains")
    assert deploy["startCommand"] != web["deploy"]["startCommand"]
    # SIGKILL comes this long after SIGTERM: longer than one delivery attempt may take.
    assert deploy["drainingSeconds"] > DEFAULT_EMAIL_TIMEOUT
    procfile = dict(
        line.split(": ", 1)
        for line in (project / "Procfile").read_text(encoding="utf-8").splitlines()
    )
    assert procfile[WORKER] == deploy["startCommand"]


# --------------------------------------------------------------------------- mail


def test_password_reset_mail_reaches_the_provider_through_the_worker(
    site, web, worker, provider, user_email
):
    """The emulated deploy runs web and worker; a reset asked on web arrives at the provider."""
    provider.reset("ok")
    clear_tasks(site)
    request_seconds = request_password_reset(site, web, user_email)
    answered = time.monotonic()
    [mail] = provider.wait_for(1, PATIENCE)
    figure("password reset POST answered in", request_seconds)
    figure("enqueue -> mail at the stand-in provider", mail.arrived - answered)

    assert mail.provider == "resend"
    assert mail.headers["authorization"] == f"Bearer {api_key(site)}"
    assert mail.body["from"] == "team@example.com"
    assert mail.recipients == [user_email]
    assert "Password reset" in mail.body["subject"]
    assert f"https://{site.domain}/reset/" in mail.body["text"]
    wait_until(lambda: statuses(site) == ["SUCCESSFUL"], PATIENCE, "the task is SUCCESSFUL")
    assert api_key(site) not in worker.log_text() + web.log_text()


@pytest.mark.parametrize("mode", ["error", "silent"])
def test_provider_failure_is_logged_and_holds_no_request(
    site, web, worker, provider, user_email, mode
):
    """A provider answering 500, or never, fails the task with one logged error, in bounded time."""
    provider.reset(mode)
    clear_tasks(site)
    before = len(worker.log_text())
    request_seconds = request_password_reset(site, web, user_email)
    provider.wait_for(1, PATIENCE)
    arrived = provider.received[0].arrived
    wait_until(lambda: statuses(site) == ["FAILED"], PATIENCE, "the task FAILED")
    failed = time.monotonic()
    log = worker.log_text()[before:]
    lines = [line for line in log.splitlines() if "not sent through" in line]
    figure(f"provider {mode}: POST answered in", request_seconds)
    figure(f"provider {mode}: request at provider -> task FAILED", failed - arrived)
    assert request_seconds < EMAIL_TIMEOUT, "the web request waited for the provider"
    assert len(lines) == 1, tail(log)
    # One JSON line (logs.py) at level error.
    assert json.loads(lines[0])["level"] == "error", lines[0]
    assert "AnymailRequestsAPIError" in lines[0], lines[0]
    assert ("500" if mode == "error" else "timed out") in lines[0], lines[0]
    assert api_key(site) not in log


def test_without_a_key_mail_is_logged_and_deploy_says_so(
    site, web, provider, user_email, lone_worker
):
    """No EMAIL_API_KEY: the pre-deploy says mail is not configured; the worker logs the mail."""
    provider.reset("ok")
    clear_tasks(site)
    code, output = site.manage("deploy")
    assert code == 0, site.show(output)
    assert "mail is not configured" in output and "EMAIL_API_KEY" in output, site.show(output)
    request_password_reset(site, web, user_email)
    code, output = site.manage("worker", "--batch", extra_env={"WORKER_INTERVAL": "0"})
    assert code == 0, site.show(output)
    assert f"To: {user_email}" in output and "Subject: Password reset" in output, output
    assert statuses(site) == ["SUCCESSFUL"]
    assert provider.received == []


def test_postmark_is_chosen_by_a_variable(site, web, provider, user_email, lone_worker):
    provider.reset("ok")
    clear_tasks(site)
    request_password_reset(site, web, user_email)
    env = mail_variables(site, provider, EMAIL_PROVIDER="postmark")
    code, output = site.manage("worker", "--batch", extra_env=env)
    assert code == 0, site.show(output)
    [mail] = provider.wait_for(1, 1)
    assert mail.provider == "postmark"
    assert mail.headers["x-postmark-server-token"] == api_key(site)
    assert mail.body["From"] == "team@example.com"
    assert mail.recipients == [user_email]
    assert "Password reset" in mail.body["Subject"]
    assert f"https://{site.domain}/reset/" in mail.body["TextBody"]


def test_unknown_provider_stops_start_up_with_one_line(site):
    code, output = site.manage("check", extra_env={"EMAIL_PROVIDER": "pigeon"})
    assert code == 1
    assert output.strip().splitlines() == [
        "ERROR: EMAIL_PROVIDER='pigeon' is not supported: use one of resend, postmark,"
        " mailgun, brevo (default: resend)"
    ]


# --------------------------------------------------------------------------- stopping a worker


def enqueue_slow_mail(site: Site, web, email: str, provider: MailProvider, delay: float) -> None:
    """Queue one mail that the stand-in will take ``delay`` seconds to accept."""
    provider.reset("slow", delay)
    clear_tasks(site)
    request_password_reset(site, web, email)


def test_sigterm_lets_the_running_task_finish(
    site, web, worker_deployment, provider, user_email, lone_worker
):
    enqueue_slow_mail(site, web, user_email, provider, delay=1.5)
    with worker_process(site, worker_deployment, provider) as worker:
        provider.wait_for(1, PATIENCE)  # the task is running: its request is at the provider
        stopped = time.monotonic()
        os.kill(worker.pid, signal.SIGTERM)
        code = worker.wait(timeout=PATIENCE)
        figure("SIGTERM -> worker exited", time.monotonic() - stopped)
    assert code == 0, tail(log_of(worker))
    assert statuses(site) == ["SUCCESSFUL"]
    assert len(provider.received) == 1


def test_second_sigterm_ends_the_task_as_failed(
    site, web, worker_deployment, provider, user_email, lone_worker
):
    enqueue_slow_mail(site, web, user_email, provider, delay=5)
    with worker_process(site, worker_deployment, provider) as worker:
        provider.wait_for(1, PATIENCE)
        os.kill(worker.pid, signal.SIGTERM)
        wait_until(lambda: "shutting down gracefully" in log_of(worker), 5, "the first SIGTERM")
        os.kill(worker.pid, signal.SIGTERM)
        code = worker.wait(timeout=PATIENCE)
    # The second signal raises SystemExit inside the task: django-tasks-db records the task as
    # FAILED (with that traceback) and the worker, no longer running, leaves its loop: exit 0.
    assert code == 0, tail(log_of(worker))
    assert statuses(site) == ["FAILED"]
    assert "terminating current task" in log_of(worker)


def test_sigkilled_task_stays_running_and_the_next_worker_runs_it(
    site, web, worker_deployment, provider, user_email, lone_worker
):
    enqueue_slow_mail(site, web, user_email, provider, delay=5)
    with worker_process(site, worker_deployment, provider) as worker:
        provider.wait_for(1, PATIENCE)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        killed = time.monotonic()
    [(status, first_ids)] = task_rows(site)
    assert status == "RUNNING", "django-tasks-db leaves a killed worker's task RUNNING"
    provider.reset("ok")
    # A new worker (Railway restarts a crashed one) for which a task RUNNING for more than 1 s
    # is abandoned puts it back in the queue and runs it.
    time.sleep(max(0.0, 1.1 - (time.monotonic() - killed)))
    with worker_process(site, worker_deployment, provider, TASK_RUNNING_TIMEOUT="1") as worker:
        provider.wait_for(1, PATIENCE)
        wait_until(lambda: statuses(site) == ["SUCCESSFUL"], PATIENCE, "the rerun succeeds")
        assert "put back in the queue" in log_of(worker)
    [(status, ids)] = task_rows(site)
    assert len(ids) == 2 and ids[0] == first_ids[0], "run by the killed worker, then the new one"
