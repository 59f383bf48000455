"""The admin on a public URL, tried as an attacker would, through the emulated Railway edge.

One gunicorn replica of the default site (production settings, PostgreSQL). An attacker sends
wrong passwords for the owner's username from one address, writing a new X-Forwarded-For each
time; the owner signs in from another address. Then the logs the replica wrote are read as
Railway's log explorer would: every line one JSON object, nothing secret in any of them.
Figures are printed with ``-s``.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.support.client_edge import ClientEdge
from tests.support.live_site import serve
from tests.support.railway_cli import service
from tests.support.railway_config import graph_of

COMBINATION = "default"
ATTACKER, OWNER = "198.51.100.66", "192.0.2.7"
USERNAME = "lockout-owner"
ATTEMPTS = 30
#: What the site's settings default to (AXES_FAILURE_LIMIT): the attempt that is refused.
FAILURE_LIMIT = 5
EDGE_REQUEST_ID = "edge-request-7f3a"
QUERY_MARKER = "token-in-query-string-never-logged"


@pytest.fixture(scope="module")
def server(get_prepared):
    with serve(get_prepared(COMBINATION)) as running:
        yield running


@pytest.fixture(scope="module")
def attack(server):
    """Run the attack and the owner's sign-in once; return what each side saw."""
    site = server.site
    password = site.create_superuser(USERNAME)
    attacker = ClientEdge(site.domain, ATTACKER)
    statuses = []
    for attempt in range(ATTEMPTS):
        attacker.forwarded_for = f"10.9.{attempt}.1"  # a new one each time: must not help
        statuses.append(
            site.login(attacker, USERNAME, f"wrong-{attempt}", form_from=server.instance).answer
        )
    right = site.login(attacker, USERNAME, password, form_from=server.instance).answer
    owner = ClientEdge(site.domain, OWNER)
    owner_login = site.login(owner, USERNAME, password, form_from=server.instance).answer
    owner_index = owner.request(
        server.instance, site.admin, headers={"X-Railway-Request-Id": EDGE_REQUEST_ID}
    )
    started = time.monotonic()
    health = [
        attacker.request(server.instance, path, https=path != "/health/")
        for path in ("/health/", "/health/live/", "/", f"/?q={QUERY_MARKER}")
    ]
    health_seconds = time.monotonic() - started
    code, lifted = site.manage("axes_reset_ip_username", ATTACKER, USERNAME)
    assert code == 0, site.show(lifted)
    after = site.login(
        ClientEdge(site.domain, ATTACKER), USERNAME, password, form_from=server.instance
    ).answer
    return {
        "statuses": [reply.status for reply in statuses],
        "lockout_page": statuses[-1],
        "right_password": right,
        "owner": (owner_login, owner_index),
        "health": health,
        "health_seconds": health_seconds,
        "after_lift": after,
        "password": password,
    }


def test_attacker_is_refused_at_the_limit_even_with_the_right_password(attack):
    statuses = attack["statuses"]
    first_refused = next(i + 1 for i, status in enumerate(statuses) if status == 429)
    print(f"\nattacker: refused (429) from attempt {first_refused} of {ATTEMPTS}")
    assert first_refused == FAILURE_LIMIT, statuses
    assert statuses[FAILURE_LIMIT - 1 :] == [429] * (ATTEMPTS - FAILURE_LIMIT + 1), statuses
    page = attack["lockout_page"]
    assert "Too many sign-in attempts" in page.text and "Traceback" not in page.text
    assert 'href="/static/' in page.text, "the 429 page should be in the site's style"
    right = attack["right_password"]
    print(f"attacker with the right password: {right.status}")
    assert right.status == 429


def test_owner_from_another_address_still_signs_in(server, attack):
    login, index = attack["owner"]
    print(f"\nowner from another address: {login.status} then {index.status}")
    assert (login.status, login.header("Location")) == (302, server.site.admin)
    assert index.status == 200
    assert index.header("X-Request-Id") == EDGE_REQUEST_ID


def test_health_and_landing_are_not_throttled_and_lifting_works(attack):
    assert [reply.status for reply in attack["health"]] == [200, 200, 200, 200]
    print(f"\nhealth and landing from the locked-out address: {attack['health_seconds']:.3f} s")
    print(f"after axes_reset_ip_username: {attack['after_lift'].status}")
    assert attack["after_lift"].status == 302


def test_every_log_line_is_json_with_the_audit_trail_and_no_secret(server, attack):
    site = server.site
    # The emulator's own notes ("[emulator] starting ...") are not the site's.
    lines = [
        line
        for line in server.log_text().splitlines()
        if line.strip() and not line.startswith("[emulator]")
    ]
    parsed = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "message" in record and "level" in record:
            parsed.append(record)
    share = len(parsed) / len(lines)
    print(f"\nlog lines that are Railway JSON: {len(parsed)} of {len(lines)} ({share:.0%})")
    bad = [site.hide(line) for line in lines if not line.lstrip().startswith("{")][:5]
    assert share == 1.0, bad
    assert {record["level"] for record in parsed} <= {"debug", "info", "warn", "error"}
    events = {(r.get("event"), r.get("client_address")) for r in parsed if r.get("event")}
    for expected in (
        ("admin.login_failed", ATTACKER),
        ("admin.locked_out", ATTACKER),
        ("admin.login", OWNER),
    ):
        assert expected in events, sorted(map(str, events))
    access = [r for r in parsed if r.get("logger") == "gunicorn.access"]
    assert any(r.get("request_id") == EDGE_REQUEST_ID for r in access)
    assert all("?" not in r["path"] and "duration_ms" in r for r in access)
    text = "\n".join(lines)
    for secret in [*site.secrets, attack["password"], QUERY_MARKER, "csrftoken=", "sessionid="]:
        found = secret in text
        assert not found, "a secret, cookie or query string reached the log"


def test_housekeeping_is_a_daily_cron_service_and_deletes_expired_rows(server):
    site = server.site
    graph = graph_of(site.project)
    web = service(graph, "web")
    cron = service(graph, "web-housekeeping")
    assert cron["deploy"]["cronSchedule"].count(" ") == 4
    assert "manage.py housekeeping" in cron["deploy"]["startCommand"]
    assert cron["variables"] == web["variables"]
    assert cron["build"] == web["build"]
    seed = (
        "INSERT INTO django_session VALUES"
        " ('expired-a', '', now() - interval '1 day'), ('current-b', '', now() + interval '1 day');"
        "INSERT INTO axes_accessattempt (user_agent, ip_address, username, http_accept, path_info,"
        " attempt_time, get_data, post_data, failures_since_start) VALUES"
        " ('', '192.0.2.99', 'old', '', '/', now() - interval '1 hour', '', '', 1),"
        " ('', '192.0.2.99', 'new', '', '/', now(), '', '', 1);"
    )
    sql(site, seed)
    code, output = site.manage("housekeeping")
    print(f"\nhousekeeping: {output.strip()!r}")
    assert code == 0, site.show(output)
    left = sql(
        site,
        "SELECT session_key FROM django_session WHERE session_key IN ('expired-a', 'current-b')"
        " UNION ALL SELECT username FROM axes_accessattempt WHERE ip_address = '192.0.2.99'",
    )
    assert sorted(left.split()) == ["current-b", "new"], left


def sql(site, statement: str) -> str:
    """Run SQL on the site's database with psql; return its unaligned output."""
    proc = subprocess.run(
        [
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            statement,
            site.env["DATABASE_URL"],
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert proc.returncode == 0, site.hide(proc.stderr)
    return proc.stdout
