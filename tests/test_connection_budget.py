"""The connection budget: replicas within PostgreSQL's max_connections, and what happens beyond.

Each replica holds at most WEB_CONCURRENCY x (GUNICORN_THREADS + 1) connections (gunicorn logs the
figure at start-up; README, "Scaling out"). A private PostgreSQL cluster is started with
max_connections just above three replicas' budget; three replicas behind a real HAProxy take
steady mixed traffic (``traffic``): no request fails, PostgreSQL refuses nobody. Then the cluster
is filled up to its limit (a process holding every free connection stands for the replicas beyond
the budget) and one more replica starts: it keeps running and answers /health/ with 503, logging
one line that names max_connections, and recovers without a restart once connections are free.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import time

import pytest

from tests.support.edge_proxy import EdgeProxy
from tests.support.live_site import railway_deployment
from tests.support.railway_emulator import PostgresCluster
from tests.support.traffic import Traffic

pytestmark = pytest.mark.slow

REPLICAS = 3
BUDGET_LINE = re.compile(r"database connections: at most (\d+) for this replica")
#: Seconds of traffic through the three replicas.
LOAD_SECONDS = 8
OUT_OF_CONNECTIONS = "PostgreSQL has no connection left (max_connections reached)"
#: Run by the site's python: open connections until PostgreSQL refuses one, print how many,
#: hold them until standard input closes.
HOLDER = """
import sys, psycopg
held = []
while True:
    try:
        held.append(psycopg.connect(sys.argv[1]))
    except psycopg.OperationalError:
        break
print(len(held), flush=True)
sys.stdin.read()
"""


@pytest.fixture(scope="module")
def budget(get_prepared, tmp_path_factory):
    """Yield (site, deployment, cluster, per-replica budget): the site on a small cluster."""
    site = get_prepared("default")
    per_replica = 2 * (4 + 1)  # the defaults: 2 workers x (4 threads + the health probe)
    cluster = PostgresCluster(max_connections=REPLICAS * per_replica + 2).init()
    secret_key = secrets.token_urlsafe(50)
    deployment = railway_deployment(
        "default",
        site.project,
        site.deployment.bin_dir,
        tmp_path_factory.mktemp("budget"),
        database_url=cluster.url(),
        secret_key=secret_key,
        hidden=[secret_key, cluster.password],
    )
    try:
        migrated = deployment.pre_deploy()
        assert migrated.returncode == 0, deployment.show(migrated.output)
        yield site, deployment, cluster, per_replica
    finally:
        deployment.close()
        cluster.close()


def start(deployment, name: str, *, healthy: bool = True):
    instance = deployment.instance(name).start()
    if healthy:
        try:
            instance.wait_healthy(deployment.config.healthcheck_path, 90)
        except AssertionError as error:
            pytest.fail(f"{error}:\n{deployment.show(instance.log_text())}", pytrace=False)
    else:
        instance.wait_listening(90)
    return instance


def test_three_replicas_stay_within_max_connections(budget, tmp_path):
    site, deployment, cluster, per_replica = budget
    instances = [start(deployment, f"budget-{n}") for n in range(1, REPLICAS + 1)]
    logged = {int(BUDGET_LINE.search(i.log_text()).group(1)) for i in instances}
    assert logged == {per_replica}, logged
    username, password = "budget", secrets.token_urlsafe(18)
    deployment.secrets.append(password)
    created = deployment.manage(
        "createsuperuser",
        "--noinput",
        settings=site.settings,
        DJANGO_SUPERUSER_USERNAME=username,
        DJANGO_SUPERUSER_EMAIL="budget@example.org",
        DJANGO_SUPERUSER_PASSWORD=password,
    )
    assert created.returncode == 0, deployment.show(created.output)
    edge = EdgeProxy(tmp_path).start(*(i.port for i in instances))
    try:
        browser = site.edge()
        login = site.login(browser, username, password, form_from=instances[0])
        assert login.answer.status == 302, deployment.show(login.answer.text)
        page = browser.request(instances[0], "/")
        stylesheet = re.search(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', page.text)
        traffic = Traffic(
            edge.port,
            site.domain,
            session_cookie=f"__Host-sessionid={browser.cookies['__Host-sessionid']}",
            csrf_cookie="__Host-csrftoken",
            username=username,
            password=password,
            static_path=stylesheet.group(1),
            admin=site.admin,
            clients=6,
        )
        peak = 0
        with traffic:
            deadline = time.monotonic() + LOAD_SECONDS
            while time.monotonic() < deadline:
                peak = max(peak, connections(cluster))
                time.sleep(0.2)
        summary = traffic.stop()
    finally:
        edge.close()
    logs = "".join(i.log_text() for i in instances)
    print(
        f"\n{REPLICAS} replicas, max_connections {cluster.max_connections}: {summary.describe()}"
        f"\npeak {peak} connections, budget {REPLICAS} x {per_replica} = {REPLICAS * per_replica}"
    )
    assert not summary.failed, summary.describe()
    assert "too many clients" not in cluster.logfile.read_text(errors="replace")
    assert "too many clients" not in logs, deployment.show(logs)
    assert peak <= REPLICAS * per_replica


def connections(cluster: PostgresCluster) -> int:
    """Return the client connections the cluster has now, leaving out the query's own."""
    rows = cluster.query(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        " AND pid <> pg_backend_pid()"
    )
    return int(rows[0][0])


def test_a_replica_beyond_the_budget_answers_503_and_keeps_running(budget):
    site, deployment, cluster, _per_replica = budget
    holder = subprocess.Popen(
        [str(site.python), "-c", HOLDER, cluster.url()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        held = int(holder.stdout.readline())
        extra = start(deployment, "beyond-budget", healthy=False)
        answers = [extra.probe(site.config.healthcheck_path).status for _ in range(3)]
        time.sleep(1)
        log = extra.log_text()
        assert extra.running(), deployment.show(log)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    print(f"\nfull cluster ({held} connections held): /health/ answered {answers}")
    assert answers == [503, 503, 503], answers
    assert OUT_OF_CONNECTIONS in log, deployment.show(log)
    deadline = time.monotonic() + 15
    while extra.probe(site.config.healthcheck_path).status != 200:
        assert time.monotonic() < deadline, deployment.show(extra.log_text())
        time.sleep(0.3)
    extra.stop()
