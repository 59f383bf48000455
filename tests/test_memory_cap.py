"""One replica under a hard 512 MB memory cap (Railway's Free plan) through steady load (issue 12).

The replica runs in a memory cgroup of its own (``memory_cgroup``; the machine's cgroup v2, else
v1), joined by its start command before gunicorn loads Django, so the master and every worker are
charged against the cap. Mixed traffic (``traffic``: pages, the admin with a session, a static
file, slow logins) goes through a real HAProxy for a while. Required: no request failed, no
process killed for memory, no worker restarted. Printed (-s): the cgroup's peak (RSS and page
cache, as the kernel charges it) and the sum of the processes' peak RSS (VmHWM).
"""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

import pytest

from tests.support.edge_proxy import EdgeProxy
from tests.support.memory_cgroup import MemoryCgroup
from tests.support.traffic import Traffic

pytestmark = pytest.mark.slow

CAP = 512 * 1024 * 1024
#: Seconds of traffic under the cap.
LOAD_SECONDS = 8
MIB = 1024 * 1024
BOOTED = re.compile(r"Booting worker with pid: (\d+)")


def peak_rss(pids: list[int]) -> int:
    """Return the sum of the processes' peak resident memory (VmHWM), in bytes."""
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        found = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.MULTILINE)
        total += int(found.group(1)) * 1024 if found else 0
    return total


def test_a_replica_stays_under_512_mb(get_prepared, tmp_path):
    cgroup = MemoryCgroup.create(CAP)
    if cgroup is None:
        pytest.skip("this machine lets the tests make no memory cgroup (v2 or v1)")
    site = get_prepared("default")
    instance = site.deployment.instance("capped")
    procs = shlex.quote(str(cgroup.path / "cgroup.procs"))
    instance.command = f"echo $$ > {procs} && exec {instance.command}"
    edge = None
    try:
        instance.start()
        try:
            instance.wait_healthy(site.config.healthcheck_path, 90)
        except AssertionError as error:
            pytest.fail(f"{error}:\n{site.show(instance.log_text())}", pytrace=False)
        edge = EdgeProxy(tmp_path).start(instance.port)
        password = site.create_superuser("capped")
        browser = site.edge()
        login = site.login(browser, "capped", password, form_from=instance)
        assert login.answer.status == 302, site.show(login.answer.text)
        page = site.edge().request(instance, "/")
        stylesheet = re.search(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', page.text)
        assert stylesheet, site.show(page.text)
        traffic = Traffic(
            edge.port,
            site.domain,
            session_cookie=f"__Host-sessionid={browser.cookies['__Host-sessionid']}",
            csrf_cookie="__Host-csrftoken",
            username="capped",
            password=password,
            static_path=stylesheet.group(1),
            admin=site.admin,
            clients=4,
        )
        with traffic:
            time.sleep(LOAD_SECONDS)
        summary = traffic.stop()
        log = instance.log_text()
        pids = [int(pid) for pid in (cgroup.path / "cgroup.procs").read_text().split()]
        rss, charged, oom_kills = peak_rss(pids), cgroup.peak(), cgroup.oom_kills()
        assert instance.running(), site.show(log)
    finally:
        if edge is not None:
            edge.close()
        instance.stop()
        cgroup.close()
    print(
        f"\nunder a {CAP // MIB} MB cap ({cgroup.description}): {summary.describe()}\n"
        f"peak {charged // MIB} MB charged to the cgroup, "
        f"peak RSS of its {len(pids)} processes {rss // MIB} MB (sum of VmHWM)"
    )
    assert oom_kills == 0, f"{oom_kills} processes killed for memory"
    assert not summary.failed, summary.describe()
    assert len(BOOTED.findall(log)) == len(pids) - 1, f"a worker restarted:\n{site.show(log)}"
    assert "SIGKILL" not in log and "out of memory" not in log.lower(), site.show(log)
