"""Deploy each baked site the way Railway would, on this machine, and check what users would see.

For the default answers and each combination that changes how the site deploys (Redis on, the
legacy railway.toml; all three are uv sites, the default package manager): install the
production lock into a fresh venv as Railpack does (``uv sync --locked --no-dev``, twice, for a
uv site; ``build_venv``), run the build, pre-deploy and start commands read from the site's own
Railway configuration, wait for Railway's
healthcheck, then talk to the site as Railway's edge does. Then restart it, run a second replica,
send a burst of requests, stop the database under it, give it a database that hangs, start it
with missing or weak variables, and try to release a migration that cannot apply.

Everything runs against a private PostgreSQL cluster per combination (so stopping it affects
nothing else) and, with Redis chosen, the shared Redis on its own database number. Figures (time
to healthy, time to 503, time to recover, requests per second, p99) are printed (-s) and written
to railway-emulation-figures.txt in pytest's base temporary folder; nothing asserts a speed beyond
the bounds the issue states as behaviour ("503 within 5 s", "200 again within 15 s").
"""

from __future__ import annotations

import contextlib
import gzip
import html
import json
import re
import secrets
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.combinations import BY_ID, answer, expected_slug
from tests.support.live_site import Site, public_domain, railway_deployment
from tests.support.processes import free_port, redact
from tests.support.railway_emulator import (
    Edge,
    HungDatabase,
    Instance,
    PostgresCluster,
    Reply,
    burst,
    read_config,
    run_shell,
)
from tests.support.venvs import INSTALLED_MARKER, build_venv, python_for, venv_path

# Under pytest-xdist each combination is a work unit of its own (tests/support/scheduling.py);
# the burst and the database stop hold ``measuring``, so that no two measurements of the run
# (another combination's, Lighthouse's) overlap.
pytestmark = pytest.mark.slow

#: The combinations whose answers change how the site deploys.
EMULATED = ["default", "redis", "legacy-railway-toml"]
#: The production session cookie's name (contract: __Host- prefix, locked to the host).
SESSION_COOKIE = "__Host-sessionid"
ONE_YEAR = 31_536_000
BURST_TOTAL = 5000
BURST_CONNECTIONS = 32
#: gunicorn's worker timeout for the hung-database instance only (GUNICORN_TIMEOUT, a service
#: variable): short, so that a worker killed for hanging would show within the test's time.
HUNG_WORKER_TIMEOUT = 8
STYLESHEET = re.compile(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"')


@dataclass(kw_only=True)
class Emulated(Site):
    """One combination deployed on the emulated Railway with a private PostgreSQL cluster.

    Shared by the checks below: the baked folder a new release is copied from, the cluster a
    test may stop, the first replica, and the admin user the fixture created.
    """

    baked: Path
    cluster: PostgresCluster
    primary: Instance | None = None
    username: str = ""
    password: str = field(default="", repr=False)
    figures: dict
    first_start_wall: float = 0.0
    _session: Edge | None = field(default=None, repr=False)

    @property
    def health(self) -> str:
        return self.config.healthcheck_path

    def figure(self, name: str, value: float, unit: str) -> None:
        """Record a figure for the module's table and print it."""
        self.figures.setdefault(self.combination_id, {})[name] = (round(value, 3), unit)
        print(f"[{self.combination_id}] {name}: {value:.3f} {unit}")

    def admin_login(
        self, browser: Edge, form_from: Instance, post_to: Instance, timeout: float = 10.0
    ) -> Reply:
        """Log the fixture's admin user in through ``browser``; return the post's answer."""
        login = self.login(
            browser,
            self.username,
            self.password,
            form_from=form_from,
            post_to=post_to,
            timeout=timeout,
        )
        return login.answer

    def session(self) -> Edge:
        """Return a browser logged in to the admin through the primary replica (logs in once)."""
        if self._session is None:
            browser = self.edge()
            reply = self.admin_login(browser, self.primary, self.primary)
            assert reply.status == 302, f"login answered {reply.status}:\n{self.show(reply.text)}"
            self._session = browser
        return self._session


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    """Figures per combination; written to a file (and printed) when the module ends."""
    collected: dict[str, dict[str, tuple[float, str]]] = {}
    yield collected
    if not collected:
        return
    lines = ["Railway emulation figures (one run; noisy on a shared machine)"]
    for combination_id, values in collected.items():
        lines.append(f"{combination_id}:")
        lines.extend(
            f"  {name:<40} {value:>10.3f} {unit}" for name, (value, unit) in values.items()
        )
    text = "\n".join(lines) + "\n"
    base = tmp_path_factory.getbasetemp()
    (base / "railway-emulation-figures.txt").write_text(text, encoding="utf-8")
    (base / "railway-emulation-figures.json").write_text(
        json.dumps(collected, indent=2), encoding="utf-8"
    )
    print("\n" + text + f"(written to {base / 'railway-emulation-figures.txt'})")


@pytest.fixture(scope="session")
def venvs_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("railway-venvs")


@pytest.fixture(scope="module")
def emulated(request, get_baked, tmp_path_factory, venvs_root, figures):
    """Install, build, pre-deploy, start one replica and wait for Railway's healthcheck."""
    combination = BY_ID[request.param]
    answers = combination.answers
    baked = get_baked(combination.id)
    workdir = tmp_path_factory.mktemp(f"railway-{combination.id}")
    (workdir / "home").mkdir()
    image = workdir / "app"
    shutil.copytree(baked, image, symlinks=True)

    service = answer(answers, "railway_service_name")
    config = read_config(image, service)
    for name in ("build_command", "start_command", "healthcheck_path"):
        assert getattr(config, name), f"{config.source} sets no {name}"
    assert config.pre_deploy_commands, f"{config.source} sets no pre-deploy command"

    python, fell_back = python_for(answer(answers, "python_version"))
    if fell_back:
        print(f"using {python}: Python {answer(answers, 'python_version')} is not installed")
    # What Railway's builder installs: the production lock alone, in a venv of this session
    # (for a uv site, Railpack's own `uv sync --locked --no-dev` steps).
    lock = "requirements.txt"
    shared = (venv_path(image, python, lock, venvs_root) / INSTALLED_MARKER).is_file()
    started = time.monotonic()
    bin_dir = build_venv(image, python, lock, venvs_root).parent
    install_seconds = time.monotonic() - started

    with contextlib.ExitStack() as cleanup:
        cluster = PostgresCluster()
        cleanup.callback(cluster.close)
        cluster.init()

        secret_key = secrets.token_urlsafe(50)
        slug = expected_slug(answers)
        domain = public_domain(slug)
        deployment = railway_deployment(
            combination.id,
            image,
            bin_dir,
            workdir,
            database_url=cluster.url(),
            secret_key=secret_key,
            hidden=[secret_key, cluster.password],
        )
        cleanup.callback(deployment.close)

        built = deployment.build()
        assert built.returncode == 0, f"build failed:\n{deployment.show(built.output)}"
        predeployed = deployment.pre_deploy()
        assert predeployed.returncode == 0, (
            f"pre-deploy failed:\n{deployment.show(predeployed.output)}"
        )

        site = Emulated(
            combination_id=combination.id,
            answers=answers,
            deployment=deployment,
            slug=slug,
            domain=domain,
            database=cluster.database,
            baked=baked,
            cluster=cluster,
            figures=figures,
        )
        site.username = "railway-admin"
        site.password = site.create_superuser(site.username)

        primary = deployment.instance("replica-1").start()
        try:
            healthy = primary.wait_healthy(config.healthcheck_path, config.healthcheck_timeout)
        except AssertionError as error:
            pytest.fail(f"{error}\n{deployment.show(primary.log_text())}", pytrace=False)
        site.primary = primary
        site.first_start_wall = primary.started_wall
        if not shared:
            site.figure("install (fresh venv, locked, as Railpack)", install_seconds, "s")
        site.figure("build command", built.seconds, "s")
        site.figure("pre-deploy command", predeployed.seconds, "s")
        site.figure("start to healthy", healthy, "s")
        yield site


def each(ids):
    return pytest.mark.parametrize("emulated", ids, ids=ids, indirect=True)


# --------------------------------------------------------------------------- helpers


def stylesheet_of(page: str) -> str:
    found = STYLESHEET.search(page)
    assert found, "the home page links no stylesheet"
    return found.group(1)


def leaks(text: str, site: Emulated, *extra: str) -> list[str]:
    """What an error answer must never show: tracebacks, exception names, addresses, secrets."""
    words = ["Traceback", "Exception", "Error:", "OperationalError", "psycopg", "postgresql://"]
    found = [word for word in words if word.lower() in text.lower()]
    for value in (
        "127.0.0.1",
        "localhost",
        str(site.cluster.port),
        *site.deployment.secrets,
        *extra,
    ):
        if value and value in text:
            found.append("a secret" if value in site.deployment.secrets else value)
    return found


def wait_for(check, timeout: float, interval: float = 0.1) -> float | None:
    """Seconds until ``check()`` is true, or None after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(interval)
    return None


def probe_status(instance: Instance, path: str) -> int:
    try:
        return instance.probe(path, timeout=5).status
    except OSError:
        return 0


def migration_state(cluster: PostgresCluster) -> tuple[int, float]:
    [[count, latest]] = cluster.query(
        "SELECT count(*), coalesce(extract(epoch FROM max(applied)), 0) FROM django_migrations"
    )
    return int(count), float(latest)


# --------------------------------------------------------------------------- the deploy


@each(EMULATED)
def test_deploy_goes_live_with_railway_variables_only(emulated):
    """The configured healthcheck answers 200 over plain HTTP with Railway's probe host."""
    site = emulated
    iac = answer(site.answers, "railway_config") == "iac"
    assert site.config.source == (".railway/railway.py" if iac else "railway.toml")
    env = site.primary.env
    configured = set(site.config.variables)
    for name in ("ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS", "DEBUG", "DJANGO_SETTINGS_MODULE"):
        assert name not in env or name in configured, f"the emulation must not set {name}"
    reply = site.primary.probe(site.health)
    assert reply.status == 200, f"healthcheck answered {reply.status}:\n{site.show(reply.text)}"
    assert site.primary.running()


@each(EMULATED)
def test_home_page_through_the_edge(emulated):
    site = emulated
    reply = site.edge().request(site.primary, "/")
    assert reply.status == 200, f"/ answered {reply.status}:\n{site.show(reply.text)}"
    assert reply.header("Content-Type").startswith("text/html")
    assert html.escape(answer(site.answers, "project_name")) in reply.text


@each(EMULATED)
def test_plain_http_is_redirected_to_https(emulated):
    site = emulated
    reply = site.edge().request(site.primary, "/", https=False)
    assert reply.status in (301, 308), f"/ over plain HTTP answered {reply.status}"
    assert reply.header("Location") == f"https://{site.domain}/"


@each(EMULATED)
def test_linked_stylesheet_is_compressed_and_cached_for_a_year(emulated):
    site = emulated
    edge = site.edge()
    page = edge.request(site.primary, "/")
    href = stylesheet_of(page.text)
    assert href.startswith("/static/"), f"stylesheet not served from the static URL: {href}"

    best = edge.request(site.primary, href, headers={"Accept-Encoding": "br, gzip"})
    assert best.status == 200, f"{href} answered {best.status}"
    assert best.header("Content-Encoding") in ("br", "gzip"), (
        f"{href} not compressed: Content-Encoding={best.header('Content-Encoding')!r}"
    )
    cache = best.header("Cache-Control")
    max_age = re.search(r"max-age=(\d+)", cache)
    assert max_age and int(max_age.group(1)) >= ONE_YEAR, f"Cache-Control: {cache!r}"
    assert "immutable" in cache, f"Cache-Control: {cache!r}"
    assert "accept-encoding" in best.header("Vary").lower()

    # The gzip answer decompresses to exactly the file the build collected.
    gz = edge.request(site.primary, href, headers={"Accept-Encoding": "gzip"})
    assert gz.header("Content-Encoding") == "gzip"
    collected = site.deployment.image / "staticfiles" / href.removeprefix("/static/")
    assert collected.is_file(), f"{href} is not a collected file"
    assert gzip.decompress(gz.body) == collected.read_bytes()


@each(EMULATED)
def test_admin_login_through_the_edge(emulated):
    site = emulated
    browser = site.edge()
    reply = site.admin_login(browser, site.primary, site.primary)
    assert reply.status == 302, f"login answered {reply.status}:\n{site.show(reply.text)}"
    assert reply.header("Location") == site.admin
    cookies = reply.cookies()
    assert SESSION_COOKIE in cookies, f"no {SESSION_COOKIE} cookie: {sorted(cookies)}"
    session = cookies[SESSION_COOKIE]
    assert session["secure"], "the session cookie is not Secure"
    assert session["httponly"], "the session cookie is not HttpOnly"
    assert session["path"] == "/" and not session["domain"], "a __Host- cookie needs Path=/"

    index = browser.request(site.primary, site.admin)
    assert index.status == 200, f"admin index answered {index.status}"
    assert site.username in index.text
    site._session = browser


@each(EMULATED)
def test_restart_comes_back_healthy_and_keeps_the_login(emulated):
    site = emulated
    browser = site.session()
    pid = site.primary.proc.pid
    code = site.primary.stop()
    assert code is not None and not site.primary.running()
    site.primary.start()
    assert site.primary.proc.pid != pid
    try:
        healthy = site.primary.wait_healthy(site.health, site.config.healthcheck_timeout)
    except AssertionError as error:
        pytest.fail(f"{error}\n{site.show(site.primary.log_text())}", pytrace=False)
    site.figure("restart to healthy", healthy, "s")
    index = browser.request(site.primary, site.admin)
    assert index.status == 200, f"after a restart the admin answered {index.status}"
    assert site.username in index.text


@each(EMULATED)
def test_two_replicas_share_logins_and_csrf_and_migrate_once(emulated):
    site = emulated
    before = migration_state(site.cluster)
    second = site.deployment.instance("replica-2").start()
    try:
        try:
            second.wait_healthy(site.health, site.config.healthcheck_timeout)
        except AssertionError as error:
            pytest.fail(f"{error}\n{site.show(second.log_text())}", pytrace=False)
        assert second.env["RAILWAY_REPLICA_ID"] != site.primary.env["RAILWAY_REPLICA_ID"]

        # A login made through replica 1 is valid on replica 2.
        index = site.session().request(second, site.admin)
        assert index.status == 200, f"replica 2 refused replica 1's login: {index.status}"

        # A form (CSRF token and cookie) from replica 2 is accepted by replica 1, and the
        # resulting login works on replica 2.
        browser = site.edge()
        reply = site.admin_login(browser, form_from=second, post_to=site.primary)
        assert reply.status == 302, f"cross-replica login answered {reply.status}"
        assert browser.request(second, site.admin).status == 200

        # The pre-deploy step migrated once, before any replica started; starting did not.
        count, latest = migration_state(site.cluster)
        assert (count, latest) == before, "starting a replica changed django_migrations"
        assert count > 0 and latest < site.first_start_wall, (
            "migrations were applied after the first replica started"
        )
        for instance in (site.primary, second):
            assert "Applying " not in instance.log_text(), f"{instance.name} ran migrations"
    finally:
        second.stop()


@each(EMULATED)
def test_burst_through_the_edge(emulated, tmp_path, measuring):
    site = emulated
    css = stylesheet_of(site.edge().request(site.primary, "/").text)
    with measuring():
        result = burst(
            site.primary.port,
            site.domain,
            ["/", site.health, css],
            total=BURST_TOTAL,
            connections=BURST_CONNECTIONS,
            threads=2,
            workdir=tmp_path,
        )
    site.figure("burst requests/s", result.requests_per_second, "req/s")
    site.figure("burst p50", result.p50_ms, "ms")
    site.figure("burst p99", result.p99_ms, "ms")
    site.figure("burst max", result.max_ms, "ms")
    # Each wrk thread stops after its share; answers already in flight still arrive and count.
    assert BURST_TOTAL <= result.answered <= BURST_TOTAL + BURST_CONNECTIONS, (
        f"{result.answered} answers for a burst of {BURST_TOTAL}"
    )
    assert result.non2xx == 0, f"{result.non2xx} answers outside 2xx"
    assert not any(result.errors.values()), f"socket errors: {result.errors}"
    log = site.primary.log_text()
    assert "WORKER TIMEOUT" not in log, site.show(log)
    assert site.primary.running()


# --------------------------------------------------------------------------- faults


@each(EMULATED)
def test_database_stopped_and_started_again(emulated, measuring):
    with measuring():
        database_stopped_and_started_again(emulated)


def database_stopped_and_started_again(emulated: Emulated) -> None:
    """Stop the site's database: /health/ 503 within 5 s, 200 within 15 s of its return."""
    site = emulated
    browser = site.session()
    assert browser.request(site.primary, site.admin).status == 200
    home = site.edge().request(site.primary, "/")
    pid = site.primary.proc.pid

    site.cluster.stop()
    try:
        # A check that passed less than HEALTH_CHECK_MAX_AGE ago may still answer for a moment.
        replies = []

        def health_fails() -> bool:
            replies.append(site.primary.probe(site.health, timeout=15))
            return replies[-1].status == 503

        took = wait_for(health_fails, timeout=5)
        health = replies[-1]
        assert took is not None, f"/health/ still answered {health.status} 5 s after the stop"
        site.figure("database down: /health/ 503 after", took, "s")
        assert health.seconds < 5, f"/health/ took {health.seconds:.1f} s"
        assert not leaks(health.text, site), f"/health/ shows {leaks(health.text, site)}"

        page = browser.request(site.primary, site.admin, timeout=15)
        assert page.status == 500, f"the admin answered {page.status} with the database down"
        assert page.header("Content-Type").startswith("text/html")
        assert not leaks(page.text, site), f"the 500 page shows {leaks(page.text, site)}"
        # The site's own page: same layout and stylesheet as the home page, its name in it.
        assert stylesheet_of(page.text) == stylesheet_of(home.text)
        assert html.escape(answer(site.answers, "project_name")) in page.text

        # The landing page reads no database and keeps answering.
        assert site.edge().request(site.primary, "/").status == 200
    finally:
        site.cluster.start()

    recovered = wait_for(lambda: probe_status(site.primary, site.health) == 200, timeout=15)
    assert recovered is not None, "/health/ not 200 within 15 s of the database coming back"
    site.figure("database back: /health/ 200 after", recovered, "s")
    assert site.primary.running() and site.primary.proc.pid == pid, "the site was restarted"
    assert browser.request(site.primary, site.admin).status == 200


@each(EMULATED)
def test_hung_database_answers_quickly_without_worker_timeouts(emulated):
    site = emulated
    hung = HungDatabase()
    hung_password = secrets.token_urlsafe(18)
    site.deployment.secrets.append(hung_password)
    instance = site.deployment.instance(
        "hung-database",
        DATABASE_URL=hung.url(hung_password),
        GUNICORN_TIMEOUT=str(HUNG_WORKER_TIMEOUT),
    )
    try:
        instance.start()
        instance.wait_listening()
        home = wait_for(lambda: site.edge().request(instance, "/").status == 200, timeout=30)
        assert home is not None, f"the site did not serve /:\n{site.show(instance.log_text())}"

        health = instance.probe(site.health, timeout=15)
        site.figure("hung database: /health/ answer", health.seconds, "s")
        assert health.status != 200, "/health/ passed with a database that never answers"
        assert health.seconds < 5, f"/health/ took {health.seconds:.1f} s"
        assert not leaks(health.text, site, str(hung.port)), "/health/ leaks details"
        assert hung.accepted > 0, "the site never reached the hung database"

        # Keep requests that need the database coming for longer than gunicorn's worker timeout:
        # admin logins (they read the user table) and health checks. Each must end before that
        # timeout: a request that outlives it is what gets a worker killed.
        def login_attempt() -> Reply:
            return site.admin_login(
                site.edge(), instance, instance, timeout=3 * HUNG_WORKER_TIMEOUT
            )

        def health_attempt() -> Reply:
            return instance.probe(site.health, timeout=3 * HUNG_WORKER_TIMEOUT)

        deadline = time.monotonic() + HUNG_WORKER_TIMEOUT + 3
        logins: list[Reply] = []
        checks: list[Reply] = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            while time.monotonic() < deadline:
                batch = [pool.submit(login_attempt) for _ in range(3)]
                check = pool.submit(health_attempt)
                logins += [future.result() for future in batch]
                checks.append(check.result())
        slowest = max(reply.seconds for reply in logins)
        site.figure("hung database: slowest admin login 500", slowest, "s")
        assert {reply.status for reply in logins} == {500}, (
            f"admin logins answered {sorted({reply.status for reply in logins})}"
        )
        assert slowest < HUNG_WORKER_TIMEOUT, (
            f"an admin login took {slowest:.1f} s, past the {HUNG_WORKER_TIMEOUT} s worker timeout"
        )
        assert not leaks(logins[0].text, site, str(hung.port)), "the 500 page leaks details"
        assert all(reply.status != 200 and reply.seconds < 5 for reply in checks), (
            f"/health/: {[(r.status, round(r.seconds, 1)) for r in checks]}"
        )
        log = instance.log_text()
        assert "WORKER TIMEOUT" not in log, site.show(log)
        assert instance.running(), "the site died with a hung database"
    finally:
        instance.stop(grace=10)
        hung.close()


def bad_settings(site: Emulated) -> list[tuple[str, str, dict[str, str | None]]]:
    """(case, variable named in the error, environment overrides)."""
    short_key = secrets.token_urlsafe(12)
    insecure_key = "django-insecure-" + secrets.token_urlsafe(50)
    password = secrets.token_urlsafe(18)
    site.deployment.secrets.extend([short_key, insecure_key, password])
    return [
        ("missing SECRET_KEY", "SECRET_KEY", {"SECRET_KEY": None}),
        ("short SECRET_KEY", "SECRET_KEY", {"SECRET_KEY": short_key}),
        ("django-insecure SECRET_KEY", "SECRET_KEY", {"SECRET_KEY": insecure_key}),
        ("missing DATABASE_URL", "DATABASE_URL", {"DATABASE_URL": None}),
        (
            "unresolved DATABASE_URL reference",
            "DATABASE_URL",
            {"DATABASE_URL": "${{Postgres.DATABASE_URL}}"},
        ),
        (
            "DATABASE_URL without a host",
            "DATABASE_URL",
            {"DATABASE_URL": f"postgresql://postgres:{password}@/railway"},
        ),
    ]


@each(EMULATED)
def test_missing_or_weak_variables_stop_start_and_pre_deploy_with_one_line(emulated):
    site = emulated
    cases = bad_settings(site)

    def start(overrides):
        env = site.deployment.environment(PORT=str(free_port()), **overrides)
        return run_shell(site.config.start_command, cwd=site.deployment.image, env=env, timeout=60)

    def pre_deploy(overrides):
        return site.deployment.pre_deploy(**overrides)

    runs = [(case, variable, step, overrides) for case, variable, overrides in cases
            for step in ("start", "pre-deploy")]  # fmt: skip
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [
            pool.submit(start if step == "start" else pre_deploy, overrides)
            for _, _, step, overrides in runs
        ]
        results = [future.result() for future in futures]

    problems = []
    for (case, variable, step, _), result in zip(runs, results, strict=True):
        lines = [line for line in result.output.splitlines() if line.strip()]
        shown = redact(result.output, site.deployment.secrets)
        if result.returncode <= 0:
            problems.append(f"{case}: {step} exited {result.returncode} (expected failure)")
        elif len(lines) != 1 or variable not in lines[0] or "Traceback" in result.output:
            problems.append(f"{case}: {step} gave no single line naming {variable}:\n{shown}")
        elif shown != result.output:
            problems.append(f"{case}: {step} printed a secret: {shown}")
    assert not problems, "\n".join(problems)


BROKEN_MIGRATION = '''\
from django.db import migrations


class Migration(migrations.Migration):
    """Added by the emulation test: a schema change that cannot apply."""

    dependencies = {dependencies}

    operations = [
        migrations.RunSQL(
            "ALTER TABLE table_that_does_not_exist ADD COLUMN note text",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
'''


def add_broken_migration(release: Path, app: str) -> str:
    """Add a migration that fails to ``app`` in the release; its name."""
    folder = release / app / "migrations"
    folder.mkdir(exist_ok=True)
    (folder / "__init__.py").touch()
    existing = sorted(p.stem for p in folder.glob("[0-9][0-9][0-9][0-9]_*.py"))
    number = int(existing[-1][:4]) + 1 if existing else 1
    name = f"{number:04d}_cannot_apply"
    dependencies = [(app, existing[-1])] if existing else []
    (folder / f"{name}.py").write_text(
        BROKEN_MIGRATION.format(dependencies=repr(dependencies)), encoding="utf-8"
    )
    return name


@each(EMULATED)
def test_failed_migration_keeps_the_old_release_serving(emulated):
    site = emulated
    app = expected_slug(site.answers)
    release = site.deployment.workdir / "release-2"
    shutil.copytree(site.baked, release, symlinks=True)
    migration = add_broken_migration(release, app)

    outcome = site.deployment.release(release, "release-2")
    assert outcome.stage == "pre-deploy", f"the release stopped at {outcome.stage!r}"
    assert outcome.instance is None, "a release whose pre-deploy failed was started"
    result = outcome.result
    shown = site.show(result.output)
    assert result.returncode != 0, shown
    assert "Traceback" not in result.output, shown
    assert redact(result.output, site.deployment.secrets) == result.output, "secret in output"
    assert migration in result.output, f"the output does not name {migration}:\n{shown}"
    last = [line for line in result.output.splitlines() if line.strip()][-1]
    assert "table_that_does_not_exist" in last, f"the last line does not say what failed:\n{shown}"

    # Railway does not start a release whose pre-deploy failed: the old one keeps serving.
    assert site.primary.running()
    assert site.primary.probe(site.health).status == 200
    assert site.edge().request(site.primary, "/").status == 200
    assert site.session().request(site.primary, site.admin).status == 200
    # The app label is the slug, a Python identifier: nothing to quote.
    applied = site.cluster.query(f"SELECT name FROM django_migrations WHERE app = '{app}'")  # noqa: S608
    assert [migration] not in applied, "the failed migration was recorded as applied"
