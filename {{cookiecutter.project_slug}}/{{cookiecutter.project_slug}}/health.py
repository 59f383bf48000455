"""Health endpoints.

``/health/`` (readiness) answers 200 ``{"status": "pass", "checks": {...}}`` when every
dependency in PROBES answers, else 503 with ``"fail"``. Railway's deploy healthcheck polls it
and sends traffic to a new deployment only after a 200. ``/health/live/`` (liveness) checks
nothing outside the process.

The answers never contain exception text, versions or addresses: the details go to the log.
Each check runs in a background thread and the view waits at most HEALTH_CHECK_TIMEOUT
seconds, so a database that accepts connections and then never replies still gets a 503 in
bounded time instead of a hung worker. While a check is still running, later requests wait on
that same check instead of piling up new ones, and a check that finished less than
HEALTH_CHECK_MAX_AGE seconds ago (1 s) answers for it: a burst of probes costs the database one
query a second, not one per request. ``ReadinessAnswerMiddleware`` keeps the whole answer
(status, body and every header the middleware gave it) for as long as those results stay fresh,
so a burst of probes does not run sessions, CSRF, authentication and the CSP header again for
an answer that cannot change.
"""

import logging
import queue
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as CheckTimeout

from django.conf import settings
{%- if cookiecutter.use_redis %}
from django.core.cache import cache
{%- endif %}
from django.core.exceptions import DisallowedHost, MiddlewareNotUsed
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.utils.http import http_date
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
{%- if cookiecutter.media_storage == "bucket" %}

from .media import check_bucket
{%- endif %}

logger = logging.getLogger(__name__)

PASSING = "pass"
FAILING = "fail"
#: The readiness path (urls.py), the one answer ReadinessAnswerMiddleware keeps.
READINESS_PATH = "/health/"
#: The kept readiness answers of this process, (host, scheme) -> (fresh until, status, headers,
#: body); front.py answers from them before Django is entered while they are fresh.
ANSWERS = {}


def check_database():
    """Run ``SELECT 1`` on the default database, reusing this thread's connection."""
    connection = connections["default"]
    connection.close_if_unusable_or_obsolete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()

{%- if cookiecutter.use_redis %}


def check_cache():
    """Write and read back a short-lived key in the cache."""
    cache.set("health-check", PASSING, timeout=10)
    if cache.get("health-check") != PASSING:
        raise RuntimeError("the cache did not return the value just written")
{%- endif %}


def is_out_of_connections(error):
    """Return whether ``error`` is PostgreSQL refusing a connection for max_connections."""
    # SQLSTATE 53300 (too_many_connections) comes with the refusal's text at connect time.
    return "too many clients" in str(error) or getattr(error, "sqlstate", None) == "53300"


class Probe:
    """One named check, run in a thread of its own with a time limit, one run at a time.

    The thread is a daemon, so a check stuck on a hung database never keeps a worker from
    exiting, and it is long-lived, so its database connection is reused between checks.
    """

    def __init__(self, name, check):
        self.name = name
        self.check = check
        self._lock = threading.Lock()
        self._jobs = queue.SimpleQueue()
        self._thread = None
        self._running = None

    def run(self, timeout, max_age=0.0):
        """Return PASSING or FAILING; never raise, never wait longer than ``timeout`` seconds.

        A check that finished at most ``max_age`` seconds ago gives its result again.
        """
        with self._lock:
            last = self._running
            finished = last is not None and last.done()
            fresh = finished and time.monotonic() - last.finished_at <= max_age
            if not fresh and (last is None or finished):
                self._running = self._submit(self.check)
            running = self._running
        try:
            running.result(timeout=timeout)
        except CheckTimeout:
            logger.warning("health check %r took longer than %.1f s", self.name, timeout)
            return FAILING
        except Exception as error:
            if is_out_of_connections(error):
                logger.error(
                    "health check %r failed: PostgreSQL has no connection left (max_connections "
                    "reached); lower the replicas, WEB_CONCURRENCY or GUNICORN_THREADS (README, "
                    '"Scaling out")',
                    self.name,
                )
            else:
                logger.exception("health check %r failed", self.name)
            return FAILING
        return PASSING

    def fresh_until(self, max_age):
        """Return the monotonic time until which the last finished result answers, or None."""
        last = self._running
        if last is None or not last.done():
            return None
        return last.finished_at + max_age

    def close_connections(self, timeout=5):
        """Close the database connections opened by this probe's thread."""
        self._submit(connections.close_all).result(timeout=timeout)

    def _submit(self, function):
        future = Future()
        self._jobs.put((future, function))
        # Threads do not survive a fork: gunicorn's workers start their own on first use.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._work, name=f"health-{self.name}", daemon=True
            )
            self._thread.start()
        return future

    def _work(self):
        while True:
            future, function = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    result = function()
                except BaseException as error:
                    future.finished_at = time.monotonic()
                    future.set_exception(error)
                else:
                    future.finished_at = time.monotonic()
                    future.set_result(result)


PROBES = [
    Probe("database", check_database),
{%- if cookiecutter.use_redis %}
    Probe("cache", check_cache),
{%- endif %}
]
{%- if cookiecutter.media_storage == "bucket" %}
# The bucket only where one is configured: local development and the tests store files on disk.
if getattr(settings, "BUCKET", None):
    PROBES.append(Probe("bucket", check_bucket))
{%- endif %}


@never_cache
@require_GET
def readiness(request):
    """Return 200 when every dependency answered in time, else 503 (readiness)."""
    checks = {
        probe.name: probe.run(settings.HEALTH_CHECK_TIMEOUT, settings.HEALTH_CHECK_MAX_AGE)
        for probe in PROBES
    }
    healthy = all(result == PASSING for result in checks.values())
    response = JsonResponse(
        {"status": PASSING if healthy else FAILING, "checks": checks},
        status=200 if healthy else 503,
    )
    # How long the same checks would give the same answer (None: a check is still running).
    until = [probe.fresh_until(settings.HEALTH_CHECK_MAX_AGE) for probe in PROBES]
    response.fresh_until = None if None in until else min(until, default=None)
    return response


@never_cache
@require_GET
def liveness(request):
    """Return 200 while the process answers HTTP; nothing outside it is consulted."""
    return JsonResponse({"status": PASSING})


class ReadinessAnswerMiddleware:
    """Answer ``/health/`` again from memory while the checks behind it are fresh; first in MIDDLEWARE.

    For HEALTH_CHECK_MAX_AGE seconds after a check, readiness gives the same answer, and the
    middleware below would build the same headers again. The complete response is kept per
    (host, scheme) until its oldest check is older than HEALTH_CHECK_MAX_AGE, then the next request
    goes through everything again. Only a GET without a query string, for a host Django allows
    (others still get the 400), is answered from memory; Expires is dated again on each answer.
    Off when DEBUG is on or HEALTH_CHECK_MAX_AGE is 0.
    """

    def __init__(self, get_response):
        if settings.DEBUG or settings.HEALTH_CHECK_MAX_AGE <= 0:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.answers = ANSWERS

    def __call__(self, request):
        key = self.key(request)
        if key is None:
            return self.get_response(request)
        kept = fresh_answer(key)
        if kept is not None:
            status, headers, content = kept
            return HttpResponse(content, status=status, headers=headers)
        response = self.get_response(request)
        until = getattr(response, "fresh_until", None)
        if until is not None and not response.cookies and not response.streaming:
            kept = (until, response.status_code, dict(response.items()), response.content)
            self.answers[key] = kept
        return response

    @staticmethod
    def key(request):
        """Return (host, scheme) when the request may be answered from memory, else None."""
        if (
            request.method != "GET"
            or request.path_info != READINESS_PATH
            or request.META.get("QUERY_STRING")
        ):
            return None
        try:
            return request.get_host(), request.scheme
        except DisallowedHost:
            return None


def fresh_answer(key):
    """Return the kept (status, headers, body) for ``key`` while it is fresh, else None.

    The headers are a copy, with Expires (never_cache's) dated now.
    """
    kept = ANSWERS.get(key)
    if kept is None or time.monotonic() >= kept[0]:
        return None
    _, status, headers, content = kept
    if "Expires" in headers:
        headers = {**headers, "Expires": http_date()}
    return status, headers, content
