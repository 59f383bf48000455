"""Three replicas behind one edge share everything through the database and cookies (issue 12).

Three replicas of the default site run behind a real HAProxy (``edge_proxy``, round-robin, as
Railway's edge spreads requests over replicas), each in a mount namespace where the project folder
is mounted read-only, with only a temporary folder writable. A browser's admin session goes from
replica to replica: the login form from one, the post to another, a CSRF-protected form and its
post on others, and the success message shown by yet another. The edge names the replica of each
answer (``X-Served-By``), so the test checks that the steps really hopped.
"""

from __future__ import annotations

import re
import shlex
import signal
import types
from pathlib import Path

import pytest

from tests.support.edge_proxy import EdgeProxy
from tests.support.live_site import CSRF_FIELD
from tests.support.processes import kill_group
from tests.support.railway_emulator import run_shell

pytestmark = pytest.mark.slow

REPLICAS = 3
#: The admin's success message after adding the group (the name is a link to it).
GROUP_ADDED = re.compile(
    r'class="success">The group .{1,3}<a href="[^"]+">hoppers</a>.{1,3} was added'
)


def read_only(command: str, folder: Path) -> str:
    """Return ``command`` run where ``folder`` is mounted read-only (a private mount namespace).

    Root ignores file permissions, so a copy without write bits would not stop it: a read-only
    bind mount does. ``unshare`` and ``exec`` keep one process, which gets the signals.
    """
    path = shlex.quote(str(folder))
    inner = (
        f"mount --bind {path} {path} && mount -o remount,bind,ro {path} && cd {path} && "
        f"exec {command}"
    )
    return f"exec unshare --mount -- sh -c {shlex.quote(inner)}"


@pytest.fixture(scope="module")
def replicas(get_prepared, tmp_path_factory):
    """Yield (site, edge, instances): three read-only replicas of the default site."""
    site = get_prepared("default")
    writable = tmp_path_factory.mktemp("replica-tmp")
    instances = []
    edge = None
    try:
        for number in range(1, REPLICAS + 1):
            instance = site.deployment.instance(f"ro-replica-{number}", TMPDIR=str(writable))
            instance.command = read_only(instance.command, site.project)
            instances.append(instance.start())
        for instance in instances:
            try:
                instance.wait_healthy(site.config.healthcheck_path, 90)
            except AssertionError as error:
                pytest.fail(f"{error}:\n{site.show(instance.log_text())}", pytrace=False)
        edge = EdgeProxy(tmp_path_factory.mktemp("replica-edge"))
        edge.start(*(instance.port for instance in instances))
        yield site, edge, instances
    finally:
        if edge is not None:
            edge.close()
        for instance in instances:  # SIGTERM to all at once, then wait for each
            if instance.running():
                kill_group(instance.proc, signal.SIGTERM)
        for instance in instances:
            instance.stop(grace=10)


def test_the_project_folder_is_read_only_for_the_replicas(replicas):
    """The control: a write into the project folder fails the way the replicas run."""
    site, _edge, _instances = replicas
    result = run_shell(
        read_only("touch written-by-a-replica", site.project),
        cwd=site.project,
        env=site.env,
        timeout=30,
    )
    assert result.returncode != 0 and "Read-only file system" in result.output, result.output
    assert not (site.project / "written-by-a-replica").exists()


def test_a_session_hops_across_three_replicas(replicas):
    """Login, CSRF and messages work whichever replica answers each request."""
    site, edge, instances = replicas
    public = types.SimpleNamespace(port=edge.port)  # what Edge.request sends to: the proxy
    browser = site.edge()
    username = "hopper"
    password = site.create_superuser(username)
    served: list[tuple[str, str]] = []

    login = site.login(browser, username, password, form_from=public)
    served += [("login form", login.form.header("X-Served-By"))]
    served += [("login post", login.answer.header("X-Served-By"))]
    assert login.answer.status == 302, site.show(login.answer.text)

    form = browser.request(public, f"{site.admin}auth/group/add/")
    served.append(("group form", form.header("X-Served-By")))
    token = CSRF_FIELD.search(form.text)
    assert form.status == 200 and token, site.show(form.text)
    origin = browser.origin
    posted = browser.request(
        public,
        f"{site.admin}auth/group/add/",
        method="POST",
        headers={"Origin": origin, "Referer": f"{origin}{site.admin}auth/group/add/"},
        form={"csrfmiddlewaretoken": token.group(1), "name": "hoppers", "_save": "Save"},
    )
    served.append(("group post", posted.header("X-Served-By")))
    assert posted.status == 302, site.show(posted.text)

    listing = browser.request(public, f"{site.admin}auth/group/")
    served.append(("message", listing.header("X-Served-By")))
    assert listing.status == 200, site.show(listing.text)
    print("replica of each step:", served)
    assert GROUP_ADDED.search(listing.text), "the success message was lost on the hop"
    assert username in listing.text

    replicas_seen = [name for _step, name in served]
    assert len(set(replicas_seen)) == REPLICAS, served
    for (step, name), (next_step, next_name) in zip(served, served[1:], strict=False):
        assert name != next_name, f"{step} and {next_step} were answered by the same replica"
    for instance in instances:
        assert "Read-only file system" not in instance.log_text(), site.show(instance.log_text())
