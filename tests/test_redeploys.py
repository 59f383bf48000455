"""Redeploys under load lose nothing: overlap, draining and gunicorn's graceful shutdown (issue 12).

Railway tears a deployment down in steps (deployments/deployment-teardown): once the new release
passes its healthcheck the edge sends it the traffic, the old one keeps running for the overlap
(RAILWAY_DEPLOYMENT_OVERLAP_SECONDS, default 0), then gets SIGTERM, and SIGKILL after the draining
seconds (RAILWAY_DEPLOYMENT_DRAINING_SECONDS, default 0). Here a real HAProxy plays the edge on
loopback (``edge_proxy``), a steady mixed stream of requests flows through it (``traffic``: pages,
the admin with a session, a static file, a login whose body takes about 2 s), and the site is
redeployed three times in a row (``redeploy``), each release's pre-deploy adding a column while
the old release serves. Required: no failed request, no 5xx, every slow request answered, every
old release exiting 0 on SIGTERM before SIGKILL. The same run with Railway's defaults (0 and 0)
prints what they lose.

To keep the module short, gunicorn's graceful timeout is lowered through its service variable
(GUNICORN_TIMEOUT) and draining keeps the configuration's margin over it; the overlap stands for
the time Railway's edge takes to move, which HAProxy's runtime API does at once. Figures are
printed (-s): requests sent and failed, slow requests completed, the slowest answer, the peak of
PostgreSQL connections against the replicas' budget.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
import tomllib

from tests.support.combinations import BY_ID, answer
from tests.support.databases import database_url
from tests.support.edge_proxy import EdgeProxy
from tests.support.live_site import Site, prepared_site
from tests.support.railway_cli import service
from tests.support.railway_config import graph_of
from tests.support.redeploy import ConnectionPeak, new_image, redeploy
from tests.support.traffic import Traffic

pytestmark = pytest.mark.slow

COMBINATION = "default"
#: GUNICORN_TIMEOUT for these tests: gunicorn's graceful timeout. A stopping gunicorn 27 worker
#: keeps the connection of its last answer open up to 2 s more (STOP_KEEPALIVE_LINGER in its
#: gthread worker) and its master kills what is left at graceful_timeout: the slow request (about
#: 2 s after SIGTERM on a busy machine) plus that linger must end well before it.
GRACEFUL_TIMEOUT = 6
#: Seconds the old release keeps serving after the switch (the configuration's stands for
#: Railway's edge, which takes time to move; HAProxy moves at once).
OVERLAP = 1.0
REDEPLOYS = 3
SESSION_COOKIE = "__Host-sessionid"
CSRF_COOKIE = "__Host-csrftoken"
STYLESHEET = re.compile(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"')
BUDGET_LINE = re.compile(r"database connections: at most (\d+) for this replica")
CLOSED_LINE = re.compile(r"worker \d+ closed (\d+) database connections")
BOOTED_LINE = re.compile(r"Booting worker with pid: (\d+)")
EXITED_LINE = re.compile(r"Worker exiting \(pid: (\d+)\)")


def teardown_settings(project: Path, source: str) -> dict[str, int]:
    """Return overlapSeconds, drainingSeconds and numReplicas as Railway reads them."""
    if source == "railway.toml":
        deploy = tomllib.loads((project / "railway.toml").read_text(encoding="utf-8"))["deploy"]
    else:
        answers = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
        deploy = service(graph_of(project), answers["railway_service_name"])["deploy"]
    return {key: deploy.get(key) for key in ("overlapSeconds", "drainingSeconds", "numReplicas")}


#: Run by the site's python in a project folder: gunicorn's graceful_timeout, default variables.
GRACEFUL_PRINT = "import runpy; print(runpy.run_path('gunicorn.conf.py')['graceful_timeout'])"


def graceful_timeout(site: Site, project: Path) -> int:
    """Return gunicorn's graceful_timeout as ``project``'s gunicorn.conf.py sets it by default."""
    env = {k: v for k, v in site.env.items() if not k.startswith("GUNICORN_")}
    proc = subprocess.run(
        [str(site.python), "-c", GRACEFUL_PRINT],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, site.show(proc.stdout + proc.stderr)
    return int(proc.stdout.split()[-1])


@pytest.fixture(scope="module")
def site(get_baked, tmp_path_factory):
    with prepared_site(get_baked, tmp_path_factory, COMBINATION, "redeploy") as prepared:
        prepared.deployment.variables["GUNICORN_TIMEOUT"] = str(GRACEFUL_TIMEOUT)
        yield prepared


@pytest.fixture(scope="module")
def draining(site) -> float:
    """Return the test's draining seconds: the configuration's margin over graceful_timeout."""
    configured = teardown_settings(site.project, site.config.source)["drainingSeconds"]
    return float(GRACEFUL_TIMEOUT + configured - graceful_timeout(site, site.project))


@pytest.mark.parametrize("combination_id", ["default", "legacy-railway-toml"])
def test_draining_outlasts_gunicorns_graceful_timeout(combination_id, get_baked, site):
    """Draining gives gunicorn its whole graceful timeout; the overlap is not Railway's 0."""
    project = get_baked(combination_id)
    iac = answer(BY_ID[combination_id].answers, "railway_config") == "iac"
    source = ".railway/railway.py" if iac else "railway.toml"
    found = teardown_settings(project, source)
    graceful = graceful_timeout(site, project)
    print(f"{combination_id} ({source}): {found}, gunicorn graceful_timeout {graceful} s")
    assert isinstance(found["drainingSeconds"], int), found
    assert found["drainingSeconds"] > graceful, (
        f"{source}: drainingSeconds {found['drainingSeconds']} s must be longer than gunicorn's "
        f"graceful_timeout ({graceful} s), or SIGKILL cuts the requests still in flight"
    )
    assert isinstance(found["overlapSeconds"], int) and found["overlapSeconds"] > 0, found
    assert isinstance(found["numReplicas"], int) and found["numReplicas"] >= 1, found


def start_release(site: Site, name: str):
    """Start a replica of the site's own image and wait for Railway's healthcheck."""
    instance = site.deployment.instance(name).start()
    try:
        instance.wait_healthy(site.config.healthcheck_path, site.config.healthcheck_timeout)
    except AssertionError as error:
        instance.stop()
        pytest.fail(f"{error}:\n{site.show(instance.log_text())}", pytrace=False)
    return instance


def closed_connections(log: str) -> int:
    """Return how many database connections the workers in ``log`` closed as they exited."""
    return sum(int(n) for n in CLOSED_LINE.findall(log))


def killed_workers(log: str) -> set[str]:
    """Return the pids of the workers in ``log`` that booted but never logged their own exit.

    Such a worker was still busy when its master's graceful timeout ran out, and was killed:
    its worker_exit hook never ran, so its database connections were cut, not closed.
    """
    return set(BOOTED_LINE.findall(log)) - set(EXITED_LINE.findall(log))


def logged_in(site: Site, edge: EdgeProxy, instance, username: str) -> tuple[str, str]:
    """Create an admin, log in through the replica; return ("name=value" session, password)."""
    password = site.create_superuser(username)
    client = site.edge()
    login = site.login(client, username, password, form_from=instance)
    assert login.answer.status == 302, site.show(login.answer.text)
    return f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}", password


def stylesheet(site: Site, instance) -> str:
    page = site.edge().request(instance, "/")
    found = STYLESHEET.search(page.text)
    assert page.status == 200 and found, site.show(page.text)
    return found.group(1)


def test_sigterm_finishes_the_requests_in_flight_and_exits_0(site, draining, tmp_path):
    """SIGTERM: a slow request still completes, a kept-alive connection is closed with an
    answer ("Connection: close"), the database connections are closed, gunicorn exits 0."""
    instance = start_release(site, "graceful")
    edge = EdgeProxy(tmp_path).start(instance.port)
    try:
        session, password = logged_in(site, edge, instance, "graceful")
        traffic = Traffic(
            edge.port,
            site.domain,
            session_cookie=session,
            csrf_cookie=CSRF_COOKIE,
            username="graceful",
            password=password,
            static_path=stylesheet(site, instance),
            admin=site.admin,
            clients=1,
        )
        kept_alive = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=10)
        headers = {"Host": site.domain, "X-Forwarded-Proto": "https"}
        kept_alive.request("GET", "/", headers=headers)
        first = kept_alive.getresponse()
        first.read()
        assert first.status == 200 and not first.will_close
        slow = {}
        slow_client = threading.Thread(target=lambda: slow.update(outcome=traffic.slow_login()))
        slow_client.start()
        time.sleep(0.7)  # the form is fetched, the post's body is under way
        result = {}
        stopper = threading.Thread(
            target=lambda: result.update(teardown=instance.terminate(draining))
        )
        stopper.start()
        time.sleep(0.3)
        kept_alive.request("GET", "/", headers=headers)
        during = kept_alive.getresponse()
        during.read()
        slow_client.join(timeout=30)
        stopper.join(timeout=draining + 15)
    finally:
        edge.close()
        instance.stop()
    teardown, log = result["teardown"], instance.log_text()
    print(
        f"SIGTERM: exit {teardown.returncode} after {teardown.seconds:.2f} s "
        f"(draining {draining:.0f} s); the slow request: {slow['outcome']}"
    )
    assert during.status == 200 and during.will_close, "a kept-alive request during shutdown"
    assert not teardown.killed and teardown.returncode == 0, site.show(log)
    assert slow["outcome"].status == 302 and not slow["outcome"].failed, slow["outcome"]
    assert slow["outcome"].seconds >= 2
    assert not killed_workers(log), site.show(log)
    assert closed_connections(log) >= 1, site.show(log)


def redeploy_under_load(
    site: Site, tmp_path: Path, username: str, *, overlap: float, draining: float, new_code: bool
):
    """Redeploy REDEPLOYS times under traffic; return (summary, teardowns, logs, peak, budget).

    With ``new_code`` each release is a new image, built, whose migration adds a column; without,
    the built image is released again (the same code redeployed: the teardown is the same,
    and the module is shorter by three builds).
    """
    first = start_release(site, f"{username}-0")
    edge = EdgeProxy(tmp_path).start(first.port)
    teardowns, logs = [], []
    try:
        session, password = logged_in(site, edge, first, username)
        budget_found = BUDGET_LINE.search(first.log_text())
        assert budget_found, site.show(first.log_text())
        traffic = Traffic(
            edge.port,
            site.domain,
            session_cookie=session,
            csrf_cookie=CSRF_COOKIE,
            username=username,
            password=password,
            static_path=stylesheet(site, first),
            admin=site.admin,
        )
        current = first
        with ConnectionPeak(site, database_url(site.database)) as peak, traffic:
            for number in range(1, REDEPLOYS + 1):
                if new_code:
                    added = [f"{username}_{n}" for n in range(1, number + 1)]
                    image = new_image(site, f"{username}-image-{number}", added)
                else:
                    image = site.project
                step = redeploy(
                    site, edge, current, image, f"{username}-{number}",
                    overlap=overlap, draining=draining, build=new_code,
                )  # fmt: skip
                print(f"release {number}: {step.describe()}")
                teardowns.append(step.teardown)
                logs.append(current.log_text())
                current = step.instance
            time.sleep(0.5)
            summary = traffic.stop()
        current.terminate(draining)
    finally:
        edge.close()
        for instance in site.deployment.instances:
            instance.stop(grace=5)
    return summary, teardowns, logs, peak.peak, int(budget_found.group(1))


def test_three_redeploys_under_load_lose_nothing(site, draining, tmp_path):
    """Three redeploys in a row, each migrating a new column: no failure, no 5xx, no SIGKILL."""
    started = time.monotonic()
    summary, teardowns, logs, peak, budget = redeploy_under_load(
        site, tmp_path, "steady", overlap=OVERLAP, draining=draining, new_code=True
    )
    print(
        f"\nwith overlap {OVERLAP:.0f} s / draining {draining:.0f} s (graceful {GRACEFUL_TIMEOUT}"
        f" s), {REDEPLOYS} redeploys in {time.monotonic() - started:.0f} s: {summary.describe()}"
        f"\nold releases: {[(t.returncode, round(t.seconds, 2), t.killed) for t in teardowns]}"
        f"\npeak PostgreSQL connections {peak}, budget {budget} per replica, two replicas"
        " during an overlap"
    )
    assert not summary.failed, summary.describe()
    assert summary.server_errors == 0
    slow = summary.of("slow")
    assert len(slow) >= REDEPLOYS, summary.describe()
    for teardown, log in zip(teardowns, logs, strict=True):
        assert teardown.returncode == 0 and not teardown.killed, site.show(log)
        assert not killed_workers(log), site.show(log)
        assert closed_connections(log) >= 1, site.show(log)
    assert peak <= 2 * budget, f"{peak} connections, more than two replicas' budget {budget}"
    code, output = site.run("-c", COLUMNS_PRINT, database_url(site.database))
    assert code == 0, site.show(output)
    assert output.split() == [f"steady_{n}" for n in range(1, REDEPLOYS + 1)], output


#: Run by the site's python: the columns the redeploys' migrations added to auth_user.
COLUMNS_PRINT = """
import sys, psycopg
with psycopg.connect(sys.argv[1]) as conn:
    for (name,) in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'users_user'"
        " AND column_name LIKE 'steady%' ORDER BY column_name"
    ):
        print(name)
"""


def test_railway_defaults_lose_requests(site, tmp_path):
    """The same redeploys with Railway's defaults (overlap 0, draining 0): requests are lost."""
    summary, teardowns, _logs, peak, budget = redeploy_under_load(
        site, tmp_path, "defaults", overlap=0.0, draining=0.0, new_code=False
    )
    print(
        f"\nwith Railway's defaults (overlap 0 s / draining 0 s), {REDEPLOYS} redeploys: "
        f"{summary.describe()}\nold releases killed: {sum(t.killed for t in teardowns)}"
    )
    assert all(t.killed for t in teardowns)
    assert summary.failed, "an instant SIGKILL lost nothing: the traffic does not reach it"
