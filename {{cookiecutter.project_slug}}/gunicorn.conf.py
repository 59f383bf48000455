"""gunicorn settings for Railway, read from the environment: gunicorn --config gunicorn.conf.py

Every number can be changed with a service variable, without a new build. The variables are read
through the settings' reader ({{ cookiecutter.project_slug }}/settings/environment.py), so a value that is not a whole
number, or is below 1 (GUNICORN_THREADS=abc, WEB_CONCURRENCY=0), stops start-up with one line
naming the variable. Loading this file on its own (python gunicorn.conf.py, or runpy) checks the
values without starting anything: gunicorn itself parses WEB_CONCURRENCY before it reads this
file, and answers a bad value with a traceback, so check it beforehand.
"""

import gc

from {{ cookiecutter.project_slug }}.settings.environment import env_int, env_str, exit_on_configuration_error


def read_numbers():
    """Return (port, workers, threads, timeout) from the environment, each at least 1."""
    return (
        env_int("PORT", 8000, minimum=1),
        env_int("WEB_CONCURRENCY", 2, minimum=1),
        env_int("GUNICORN_THREADS", 4, minimum=1),
        env_int("GUNICORN_TIMEOUT", 30, minimum=1),
    )


port, workers, threads, timeout = exit_on_configuration_error(read_numbers)

# Railway injects PORT and routes its edge to it. "[::]" accepts IPv6 and, on Linux, IPv4 too
# (Railway's private network is IPv6-only).
bind = [f"[::]:{port}"]

# Each worker is a copy of Django (about 50 MB resident, much of it shared with the master thanks
# to preload_app). Two workers with four threads each use about 150 MB in all after load, well
# inside a 0.5 GB plan (Railway Free); raise WEB_CONCURRENCY on bigger plans.
# Chosen by measuring (the cfmp-railway template's benchmark, docs/benchmarks.md in the template
# repository that .cruft.json names): gthread keeps the edge's connections open, and beat sync
# workers by a third or more on "/"; a third worker or fewer threads changed the rates by less
# than the run-to-run spread, for 30 % more memory.
worker_class = "gthread"

# Seconds a request may run before its worker is restarted, and the grace period on shutdown:
# on SIGTERM (a redeploy, once the overlap is over) each worker stops accepting, finishes the
# requests in flight within graceful_timeout, answers any request on a kept-alive connection
# with "Connection: close", and exits; the master then exits 0. Railway's drainingSeconds
# (.railway/railway.py, railway.toml) must be longer, or SIGKILL cuts the slowest requests.
graceful_timeout = timeout
# Railway's edge keeps connections to the app open between requests; reuse them.
keepalive = 5
# Worker heartbeats go to memory, not to the container's overlay disk.
worker_tmp_dir = "/dev/shm"  # noqa: S108 (a RAM disk, not a shared temp directory)

# Trust X-Forwarded-For/-Proto from any address: only Railway's edge can reach the container's
# port, and Django's SECURE_PROXY_SSL_HEADER needs the forwarded scheme to see HTTPS.
forwarded_allow_ips = "*"

wsgi_app = "{{ cookiecutter.project_slug }}.wsgi:application"
# Load Django once in the master, before forking: less memory per worker, and a broken
# configuration fails the deployment at start-up instead of in every worker.
preload_app = True

# Recycle a worker after about 10,000 requests (jittered, so they do not all restart at once), a
# guard against slow memory leaks. Measured (the template's benchmark, as above): at 1,000, a busy
# worker restarted every second or two, which cost a quarter of the throughput of "/" and put
# the 99th percentile at 170 ms instead of 30 ms.
max_requests = 10_000
max_requests_jitter = 1_000

# Logs: every line on stdout as one JSON object (Railway shows stderr lines as errors): the
# error log (start-up, workers, shutdown) and one access line per request with its method, path
# (no query string), status, bytes, duration and request id ({{ cookiecutter.project_slug }}/gunicorn_logs.py).
accesslog = "-"
errorlog = "-"
logger_class = "{{ cookiecutter.project_slug }}.gunicorn_logs.RailwayLogger"
loglevel = env_str("GUNICORN_LOG_LEVEL", "info").lower()

# gunicorn 25.1+ opens a control socket (a file under $HOME or $XDG_RUNTIME_DIR) for gunicornc.
# Nothing uses it on Railway: keep the container free of it.
control_socket_disable = True


def pre_fork(server, worker):
    """Freeze what the master has loaded (Django, its settings and URLs) before a worker forks.

    The worker's garbage collections then skip those objects instead of walking all of them again
    and again under load, and the pages that hold them stay shared with the master (copy-on-write).
    """
    gc.freeze()


def when_ready(server):
    """Log the most database connections this replica may hold (README, "Scaling out")."""
    server.log.info(
        "database connections: at most %d for this replica (%d workers x %d threads, "
        "+1 for the health probe's thread in each worker)",
        workers * (threads + 1),
        workers,
        threads,
    )


def post_fork(server, worker):
    """Record the database connections the new worker opens, to close them when it exits."""
    from {{ cookiecutter.project_slug }} import dbconnections

    dbconnections.track()


def worker_exit(server, worker):
    """Close the exiting worker's database connections (PostgreSQL sees a clean goodbye)."""
    from {{ cookiecutter.project_slug }} import dbconnections

    closed = dbconnections.close_all()
    server.log.info("worker %s closed %d database connections", worker.pid, closed)
