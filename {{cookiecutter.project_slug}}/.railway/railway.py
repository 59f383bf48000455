"""Railway Infrastructure as Code for this site: the whole Railway project in one file.

`railway config plan` and `railway config apply` run this file with the `python3` on your PATH
(it must import railway-sdk: `pip install railway-sdk==0.7.0` in the active virtual environment)
and call ``main()`` with no argument. The first deploy, in this order (README, "First deploy on
Railway"):

    railway init                     # or: railway link, for an existing project
    railway config apply             # PostgreSQL{% if cookiecutter.use_redis %}, Redis{% endif %}{% if cookiecutter.media_storage == "bucket" %}, the bucket{% endif %} and an empty {{ cookiecutter.railway_service_name }} service: nothing deploys yet
    python -c "import secrets; print(secrets.token_urlsafe(50))" | railway variable set SECRET_KEY --stdin --service {{ cookiecutter.railway_service_name }}
    railway up --ci --service {{ cookiecutter.railway_service_name }}   # the first deploy, with SECRET_KEY already set

The task worker (the "worker" service, which sends the mail) deploys the same way once it has
the same SECRET_KEY (README, "Task worker").

What this file leaves out, on purpose:

- A source. The service deploys only what `railway up` uploads (the GitHub workflow after the
  tests pass, or deploy.sh), so a push deploys once. With a GitHub source Railway would also
  deploy every push by itself, and creating the service would start a deploy before SECRET_KEY
  exists.
- Custom domains. The plan refuses to register one ("Custom-domain registration is not supported
  by Railway configuration"); add it with `railway domain <host>` (README). Apply leaves
  domains it does not declare alone.
- Values. Every other variable the site reads is listed below with ``preserve()``: apply keeps
  what you set with `railway variable set`, and deletes nothing the site reads. A variable that
  is not listed here is deleted by the next apply.

The commands below are the same strings as in Procfile and the README; keep them in step.
"""

from railway_sdk import {% if cookiecutter.media_storage == "bucket" %}bucket, {% endif %}define_railway, postgres, preserve, project, {% if cookiecutter.use_redis %}redis, {% endif %}service

PROJECT_NAME = {{ cookiecutter.project_name|python_string }}
SERVICE_NAME = "{{ cookiecutter.railway_service_name }}"
# The task worker: the same image and variables, its own start command (it sends the mail).
WORKER_SERVICE_NAME = "worker"
{%- if cookiecutter.custom_domain %}
# The port gunicorn listens on, and the one `railway domain {{ cookiecutter.custom_domain }} --port 8080` targets.
APP_PORT = 8080
{%- endif %}

PRODUCTION_SETTINGS = "{{ cookiecutter.project_slug }}.settings.production"
# Build: collect static files once per image (WhiteNoise serves them hashed and compressed).
BUILD_COMMAND = f"python manage.py collectstatic --noinput --settings={PRODUCTION_SETTINGS}"
# Pre-deploy: runs once per deployment, in its own container, before the new release starts
# (system checks, then migrations). A non-zero exit stops the deployment.
PRE_DEPLOY_COMMAND = f"python manage.py deploy --settings={PRODUCTION_SETTINGS}"
# Start: gunicorn reads PORT, WEB_CONCURRENCY, GUNICORN_THREADS, ... in gunicorn.conf.py.
START_COMMAND = "gunicorn --config gunicorn.conf.py"
# The worker's start command: runs queued tasks until SIGTERM (it serves no HTTP, so it has no
# healthcheck path: Railway counts its deployment live once the process has started).
WORKER_START_COMMAND = f"python manage.py worker --settings={PRODUCTION_SETTINGS}"
# Seconds between SIGTERM and SIGKILL when a worker is replaced (Railway's drainingSeconds,
# default 0): the task in hand, a mail bounded by EMAIL_TIMEOUT (10 s), finishes in time.
WORKER_DRAINING_SECONDS = 15
# A new deployment gets traffic only once this path answers 200.
HEALTHCHECK_PATH = "/health/"
# Seconds Railway keeps probing a new deployment before it calls the deploy failed (Railway's
# healthcheckTimeout). Not the site's HEALTH_CHECK_TIMEOUT, which bounds each probe's checks.
DEPLOY_WINDOW_SECONDS = 120
# Redeploys (Railway's deployment teardown): once the new release passes its healthcheck, the
# old one keeps serving for OVERLAP_SECONDS (Railway's default: 0), long enough for the edge to
# send every new request to the new release; then it gets SIGTERM, and SIGKILL DRAINING_SECONDS
# later (default: 0, an instant kill). gunicorn needs up to its graceful_timeout (GUNICORN_TIMEOUT,
# 30 s) to finish the requests in flight, so draining is that plus 5 s for the master to reap its
# workers and close their database connections. Raise DRAINING_SECONDS with GUNICORN_TIMEOUT.
OVERLAP_SECONDS = 10
DRAINING_SECONDS = 35
# Replicas of the web service, all behind Railway's edge (round-robin) and sharing PostgreSQL{% if cookiecutter.use_redis %}
# and Redis{% endif %}; the site keeps no state in a replica. Each replica holds up to
# WEB_CONCURRENCY x GUNICORN_THREADS (+1 for the health probe) database connections: README,
# "Scaling out", gives the budget against PostgreSQL's max_connections.
REPLICAS = 1

# The housekeeping cron service: the same image and variables as the web service; Railway starts
# its start command on the schedule (UTC) and the command exits when done (manage.py
# housekeeping: expired sessions, old sign-in attempts and logs).
HOUSEKEEPING_SERVICE_NAME = f"{SERVICE_NAME}-housekeeping"
HOUSEKEEPING_COMMAND = f"python manage.py housekeeping --settings={PRODUCTION_SETTINGS}"
HOUSEKEEPING_SCHEDULE = "17 3 * * *"
RESTART_POLICY_TYPE = "ON_FAILURE"
# Free and Trial plans allow at most 10 retries.
RESTART_POLICY_MAX_RETRIES = 10
{%- if cookiecutter.media_storage == "bucket" %}

# What a Railway Storage Bucket gives a service by reference (docs: storage-buckets).
BUCKET_VARIABLES = ("BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "REGION", "ENDPOINT")
{%- endif %}

# Variables the site reads that you may set (`railway variable set NAME=value`); apply keeps
# them. Their defaults are in the settings and gunicorn.conf.py (.env.production.example).
OPTIONAL_VARIABLES = (
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_ADMIN_URL",
    "DJANGO_LOG_LEVEL",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_MINUTES",
    "AXES_LOG_RETENTION_DAYS",
    "DEFAULT_FROM_EMAIL",
    "SECURE_HSTS_PRELOAD",
    "DATABASE_SSLMODE",
    "DATABASE_CONNECT_TIMEOUT",
    "DATABASE_STATEMENT_TIMEOUT_MS",
    "DATABASE_CONN_MAX_AGE",
    "HEALTH_CHECK_TIMEOUT",
    "HEALTH_CHECK_MAX_AGE",
{%- if cookiecutter.media_storage == "bucket" %}
    "BUCKET_TIMEOUT",
    "BUCKET_URL_EXPIRY",
    "AWS_S3_ADDRESSING_STYLE",
{%- endif %}
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_LOG_LEVEL",
    "WORKER_INTERVAL",
    "WORKER_MIGRATION_WAIT",
    "TASK_RUNNING_TIMEOUT",
    "EMAIL_TIMEOUT",
{%- if cookiecutter.use_sentry %}
    "SENTRY_DSN",
    "SENTRY_TRACES_SAMPLE_RATE",
{%- endif %}
{%- if cookiecutter.email_backend == "smtp" %}
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
{%- elif cookiecutter.email_backend == "api" %}
    "EMAIL_PROVIDER",
    "EMAIL_API_KEY",
    "EMAIL_API_URL",
{%- endif %}
)


@define_railway
def main(ctx=None):
    """Return the project: PostgreSQL{% if cookiecutter.use_redis %}, Redis{% endif %}{% if cookiecutter.media_storage == "bucket" %}, a Storage Bucket{% endif %}, the web service and the task worker, for every environment."""
    db = postgres("Postgres")
{%- if cookiecutter.use_redis %}
    cache = redis("Redis")
{%- endif %}
{%- if cookiecutter.media_storage == "bucket" %}
    # Uploaded files: a private, S3-compatible Railway Storage Bucket, one per environment.
    uploads = bucket("Bucket")
{%- endif %}

    env = {
        # A reference Railway resolves: the Postgres service's private-network URL.
        "DATABASE_URL": db.env.DATABASE_URL,
{%- if cookiecutter.use_redis %}
        "REDIS_URL": cache.env.REDIS_URL,
{%- endif %}
{%- if cookiecutter.media_storage == "bucket" %}
        # References to the bucket's credentials, under the names the bucket gives them (the
        # settings read exactly these).
        **{name: getattr(uploads.env, name) for name in BUCKET_VARIABLES},
{%- endif %}
        # Set once with `railway variable set SECRET_KEY --stdin`, before the first deploy.
        "SECRET_KEY": preserve(),
{%- if cookiecutter.custom_domain %}
        "PORT": str(APP_PORT),
{%- endif %}
        **{name: preserve() for name in OPTIONAL_VARIABLES},
    }

    web = service(
        SERVICE_NAME,
        build=BUILD_COMMAND,
        start=START_COMMAND,
        preDeploy=[PRE_DEPLOY_COMMAND],
        healthcheck=HEALTHCHECK_PATH,
        healthcheckTimeout=DEPLOY_WINDOW_SECONDS,
        replicas=REPLICAS,
        deploy={
            "overlapSeconds": OVERLAP_SECONDS,
            "drainingSeconds": DRAINING_SECONDS,
            "restartPolicyType": RESTART_POLICY_TYPE,
            "restartPolicyMaxRetries": RESTART_POLICY_MAX_RETRIES,
        },
        env=env,
    )

    # No pre-deploy (the web service migrates; the worker waits for it), no healthcheck, no
    # domain. Like web it has no source: `railway up --service worker` deploys it.
    worker = service(
        WORKER_SERVICE_NAME,
        build=BUILD_COMMAND,
        start=WORKER_START_COMMAND,
        deploy={
            "restartPolicyType": RESTART_POLICY_TYPE,
            "restartPolicyMaxRetries": RESTART_POLICY_MAX_RETRIES,
            "drainingSeconds": WORKER_DRAINING_SECONDS,
        },
        env=dict(env),
    )

    # Deployed like the web service (`railway up --service {{ cookiecutter.railway_service_name }}-housekeeping`); no
    # healthcheck (nothing listens) and no restart: a run that fails waits for the next day.
    housekeeping = service(
        HOUSEKEEPING_SERVICE_NAME,
        build=BUILD_COMMAND,
        start=HOUSEKEEPING_COMMAND,
        deploy={"cronSchedule": HOUSEKEEPING_SCHEDULE, "restartPolicyType": "NEVER"},
        env=dict(env),
    )

    return project(
        PROJECT_NAME,
        resources=[db, {% if cookiecutter.use_redis %}cache, {% endif %}{% if cookiecutter.media_storage == "bucket" %}uploads, {% endif %}web, worker, housekeeping],
    )
