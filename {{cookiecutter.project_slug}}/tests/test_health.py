"""/health/ and /health/live/: status codes, body shape, caching, and what they never reveal."""

import json
import socket
import threading
import time
import unittest

from django.core.exceptions import MiddlewareNotUsed
from django.db import OperationalError, connection
from django.http import JsonResponse
from django.test import RequestFactory, SimpleTestCase, TestCase, override_settings

from {{ cookiecutter.project_slug }} import health

from .helpers import HEALTHCHECK_HOST, fetch, production_env, shared_database_url

# Text that would tell an outsider about the system behind the site.
REVEALING = (
    "Traceback",
    "rror",
    "127.0.0.1",
    "5432",
    "postgres",
    "psycopg",
    "refused",
    "version",
    "django",
)


def assert_reveals_nothing(testcase, body):
    for text in REVEALING:
        testcase.assertNotIn(text, body)


class ReadinessTests(TestCase):
    @classmethod
    def tearDownClass(cls):
        for probe in health.PROBES:
            probe.close_connections()
        super().tearDownClass()

    def test_passes_when_dependencies_answer(self):
        response = self.client.get("/health/")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["status"], "pass")
        self.assertEqual(body["checks"]["database"], "pass")
        self.assertTrue(all(result == "pass" for result in body["checks"].values()))

    def test_is_never_cached(self):
        response = self.client.get("/health/")
        self.assertIn("no-store", response.headers["Cache-Control"])

    def test_only_reads(self):
        self.assertEqual(self.client.post("/health/").status_code, 405)

    def test_liveness_needs_nothing_outside_the_process(self):
        response = self.client.get("/health/live/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "pass"})
        self.assertIn("no-store", response.headers["Cache-Control"])


class SilentServer:
    """A TCP server that accepts connections and never says a word, like a hung database."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        for conn in self.accepted:
            conn.close()
        self.socket.close()


class ReadinessWithBrokenDatabaseTests(unittest.TestCase):
    """Production processes whose database is down or hung: 503, quickly, revealing nothing."""

    def test_unreachable_database_gives_503_without_details(self):
        env = production_env(DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable")
        [probe, live] = fetch(
            [
                ("/health/", {"host": HEALTHCHECK_HOST}),
                ("/health/live/", {"host": HEALTHCHECK_HOST}),
            ],
            env,
        )
        self.assertEqual(probe["status"], 503)
        body = json.loads(probe["body"])
        self.assertEqual(body["status"], "fail")
        self.assertEqual(body["checks"]["database"], "fail")
        assert_reveals_nothing(self, probe["body"])
        self.assertEqual(live["status"], 200)

    def test_hung_database_gives_503_within_the_time_limit(self):
        server = SilentServer()
        self.addCleanup(server.close)
        env = production_env(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{server.port}/hung",
            DATABASE_CONNECT_TIMEOUT="30",
            HEALTH_CHECK_TIMEOUT="1",
        )
        # The connect timeout is far longer than the health timeout, so only the health
        # check's own time limit can produce this answer before the subprocess timeout.
        [probe] = fetch([("/health/", {"host": HEALTHCHECK_HOST})], env, timeout=20)
        self.assertEqual(probe["status"], 503)
        self.assertEqual(json.loads(probe["body"])["checks"]["database"], "fail")
        assert_reveals_nothing(self, probe["body"])
        self.assertTrue(server.accepted, "the site never tried the hung database")


@unittest.skipUnless(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL")
class ReadinessInProductionTests(TestCase):
    def test_railway_probe_over_plain_http_passes(self):
        env = production_env(DATABASE_URL=shared_database_url())
        [probe] = fetch([("/health/", {"host": HEALTHCHECK_HOST})], env)
        self.assertEqual(probe["status"], 200, probe["body"])
        self.assertEqual(json.loads(probe["body"])["status"], "pass")


class ProbeReuseTests(unittest.TestCase):
    """A finished check answers again for max_age seconds; after that a new one runs."""

    def counting_probe(self):
        calls = []
        return health.Probe("counted", lambda: calls.append(1)), calls

    def test_a_fresh_result_is_reused(self):
        probe, calls = self.counting_probe()
        self.assertEqual(probe.run(timeout=2, max_age=60), health.PASSING)
        self.assertEqual(probe.run(timeout=2, max_age=60), health.PASSING)
        self.assertEqual(len(calls), 1)

    def test_every_request_checks_with_max_age_zero(self):
        probe, calls = self.counting_probe()
        for _ in range(3):
            self.assertEqual(probe.run(timeout=2, max_age=0), health.PASSING)
        self.assertEqual(len(calls), 3)

    def test_a_failure_is_reused_too_and_then_checked_again(self):
        outcomes = [RuntimeError("down"), None]

        def check():
            outcome = outcomes.pop(0)
            if outcome is not None:
                raise outcome

        probe = health.Probe("flaky", check)
        with self.assertLogs(health.logger, "ERROR"):
            self.assertEqual(probe.run(timeout=2, max_age=60), health.FAILING)
            self.assertEqual(probe.run(timeout=2, max_age=60), health.FAILING)
        self.assertEqual(len(outcomes), 1)  # the second answer came from the first check
        self.assertEqual(probe.run(timeout=2, max_age=0), health.PASSING)
        self.assertEqual(outcomes, [])


class OutOfConnectionsTests(unittest.TestCase):
    """PostgreSQL at max_connections: one log line that names the limit, not a traceback."""

    def test_too_many_clients_is_named_in_one_line(self):
        def check():
            raise OperationalError("connection failed: FATAL:  sorry, too many clients already")

        probe = health.Probe("database", check)
        with self.assertLogs(health.logger, "ERROR") as logged:
            self.assertEqual(probe.run(timeout=2), health.FAILING)
        (record,) = logged.records
        self.assertIn("max_connections", record.getMessage())
        self.assertIsNone(record.exc_info)

    def test_other_failures_keep_their_traceback(self):
        def check():
            raise OperationalError("connection refused")

        probe = health.Probe("database", check)
        with self.assertLogs(health.logger, "ERROR") as logged:
            self.assertEqual(probe.run(timeout=2), health.FAILING)
        self.assertNotIn("max_connections", logged.records[0].getMessage())
        self.assertIsNotNone(logged.records[0].exc_info)


class ReadinessAnswerTests(SimpleTestCase):
    """ReadinessAnswerMiddleware: the answer is kept while its checks are fresh, then rebuilt.

    ``answer`` stands in for the middleware and view below it, counts calls, and says how long
    its answer holds as readiness does (``fresh_until``, a time.monotonic() value).
    """

    def setUp(self):
        self.calls = 0
        self.holds_for = 60.0
        self.factory = RequestFactory()
        health.ANSWERS.clear()  # the process's kept answers: each case starts without any
        self.addCleanup(health.ANSWERS.clear)

    def answer(self, request):
        self.calls += 1
        response = JsonResponse({"status": health.PASSING, "call": self.calls})
        response["Expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
        response["Content-Security-Policy"] = "default-src 'none'"
        holds_for = self.holds_for
        response.fresh_until = None if holds_for is None else time.monotonic() + holds_for
        return response

    def middleware(self):
        return health.ReadinessAnswerMiddleware(self.answer)

    def test_a_fresh_answer_is_given_again_with_its_headers(self):
        middleware = self.middleware()
        first = middleware(self.factory.get("/health/"))
        second = middleware(self.factory.get("/health/"))
        self.assertEqual(self.calls, 1)
        self.assertEqual(second.status_code, first.status_code)
        self.assertEqual(second.content, first.content)
        self.assertEqual(second["Content-Security-Policy"], "default-src 'none'")
        self.assertEqual(second["Content-Type"], "application/json")
        self.assertNotEqual(second["Expires"], first["Expires"])  # dated again

    def test_a_stale_answer_is_built_again(self):
        self.holds_for = -1.0
        middleware = self.middleware()
        middleware(self.factory.get("/health/"))
        second = middleware(self.factory.get("/health/"))
        self.assertEqual(self.calls, 2)
        self.assertEqual(json.loads(second.content)["call"], 2)

    def test_an_answer_while_a_check_still_runs_is_not_kept(self):
        self.holds_for = None
        middleware = self.middleware()
        middleware(self.factory.get("/health/"))
        middleware(self.factory.get("/health/"))
        self.assertEqual(self.calls, 2)

    def test_https_and_plain_http_are_kept_apart(self):
        middleware = self.middleware()
        middleware(self.factory.get("/health/"))
        middleware(self.factory.get("/health/", secure=True))
        self.assertEqual(self.calls, 2)

    def test_requests_that_could_get_another_answer_go_through(self):
        middleware = self.middleware()
        middleware(self.factory.get("/health/"))
        self.calls = 0
        for request in (
            self.factory.get("/health/", {"q": "1"}),
            self.factory.get("/health/", headers={"host": "unknown.example.com"}),
            self.factory.head("/health/"),
            self.factory.post("/health/"),
            self.factory.get("/health/live/"),
        ):
            middleware(request)
        self.assertEqual(self.calls, 5)

    def test_off_while_debugging_or_with_max_age_zero(self):
        for changes in ({"DEBUG": True}, {"HEALTH_CHECK_MAX_AGE": 0}):
            with self.subTest(**changes), override_settings(**changes):
                with self.assertRaises(MiddlewareNotUsed):
                    self.middleware()


class ReadinessFreshnessTests(TestCase):
    """readiness says how long its answer holds: until its oldest check is MAX_AGE seconds old."""

    @classmethod
    def tearDownClass(cls):
        for probe in health.PROBES:
            probe.close_connections()
        super().tearDownClass()

    @override_settings(HEALTH_CHECK_MAX_AGE=30)
    def test_fresh_until_is_the_oldest_check_plus_max_age(self):
        before = time.monotonic()
        response = health.readiness(RequestFactory().get("/health/"))
        self.assertEqual(response.status_code, 200)
        fresh = [probe.fresh_until(30) for probe in health.PROBES]
        self.assertEqual(response.fresh_until, min(fresh))
        self.assertGreater(response.fresh_until, before)
