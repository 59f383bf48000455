"""Settings shared by local development, the tests and production.

Environment-specific modules (local, test, production) import everything from here and change
only what differs. Variables are read through ``environment`` so that a bad value is reported
as one line naming the variable.
"""

from pathlib import Path

import dj_database_url
{%- if cookiecutter.django_version == "5.2" %}
from csp.constants import NONE, SELF
{%- else %}
from django.utils.csp import CSP
{%- endif %}

from ..logs import logging_config
from .environment import ConfigurationError, env_float, env_int, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

PROJECT_NAME = {{ cookiecutter.project_name|python_string }}
PROJECT_DESCRIPTION = {{ cookiecutter.project_description|python_string }}

# Applications and request handling

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
{%- if cookiecutter.django_version == "5.2" %}
    "csp",
    "django_tasks",
{%- endif %}
    "django_tasks_db",
    # The admin's guards (issue 11): login throttling{% if cookiecutter.admin_two_factor %}, two-factor sign-in (TOTP){% endif %}.
    "axes",
{%- if cookiecutter.admin_two_factor %}
    "django_otp",
    "django_otp.plugins.otp_totp",
{%- endif %}
    "{{ cookiecutter.project_slug }}",
    "{{ cookiecutter.project_slug }}.users",
]

MIDDLEWARE = [
    # The request id (X-Railway-Request-Id, or a new one) on every log line and response.
    "{{ cookiecutter.project_slug }}.request_id.RequestIdMiddleware",
    # First: answers /health/ from memory while its checks are fresh (HEALTH_CHECK_MAX_AGE), with
    # the headers the middleware below gave it (see health.py).
    "{{ cookiecutter.project_slug }}.health.ReadinessAnswerMiddleware",
    # Then: answers the landing page from memory, with the headers the middleware below gave
    # it the first time (see page_cache.py).
    "{{ cookiecutter.project_slug }}.page_cache.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "{{ cookiecutter.project_slug }}.cross_origin.CrossOriginPolicyMiddleware",
    # WhiteNoise's middleware, sharing its table of files with the WSGI front (see front.py).
    "{{ cookiecutter.project_slug }}.front.StaticFilesMiddleware",
{%- if cookiecutter.django_version == "5.2" %}
    "csp.middleware.CSPMiddleware",
{%- else %}
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
{%- endif %}
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
{%- if cookiecutter.admin_two_factor %}
    "django_otp.middleware.OTPMiddleware",
{%- endif %}
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A file storage that cannot take an upload answers 503 with a sentence (see media.py).
    "{{ cookiecutter.project_slug }}.media.StorageUnavailableMiddleware",
    # Last, as django-axes requires: answers a locked-out sign-in with the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "{{ cookiecutter.project_slug }}.urls"
WSGI_APPLICATION = "{{ cookiecutter.project_slug }}.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "{{ cookiecutter.project_slug }}.context_processors.site",
            ],
        },
    },
]


#: The admin's path when DJANGO_ADMIN_URL is unset: chosen at random when this site was generated,
#: so scanners that try /admin/ find nothing (the guards below do the real work).
DEFAULT_ADMIN_URL = "{{ cookiecutter.admin_url }}"


def admin_url():
    """Return the admin's path prefix, from DJANGO_ADMIN_URL (default: this site's own)."""
    url = env_str("DJANGO_ADMIN_URL", DEFAULT_ADMIN_URL)
    if url.startswith("/") or not url.endswith("/") or " " in url:
        raise ConfigurationError(
            f"DJANGO_ADMIN_URL={url!r} must be a path like 'staff-only/': "
            "no leading slash, one trailing slash, no spaces"
        )
    return url


ADMIN_URL = admin_url()

# Database


def database_config(url, *, conn_max_age=60):
    """Return Django's DATABASES entry for a database URL.

    For PostgreSQL: connections are reused for ``conn_max_age`` seconds and checked before each
    request that reuses them; connecting and every statement have a time limit, so a database
    that hangs makes requests fail in seconds instead of holding workers until they are killed.
    Measured against no reuse and psycopg's pool (the cfmp-railway template's benchmark,
    docs/benchmarks.md in the template repository): reuse answers /health/ about 1.5x as fast as
    connecting each time, and the pool, with the same check on each use, was no faster by more
    than the noise.
    """
    config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.postgresql":
        statement_timeout_ms = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 30_000)
        config["OPTIONS"] = {
            "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 3),
            "sslmode": env_str("DATABASE_SSLMODE", "prefer"),
            "options": f"-c statement_timeout={statement_timeout_ms}",
            "application_name": "{{ cookiecutter.project_slug }}",
        }
    return config


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: one per process unless production configures a shared one

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Health checks: how long /health/ waits for the database (and cache) before answering 503

HEALTH_CHECK_TIMEOUT = env_float("HEALTH_CHECK_TIMEOUT", 2.0)
# ... and how old (seconds) a finished check's result may be to answer again (0: never reused).
HEALTH_CHECK_MAX_AGE = env_float("HEALTH_CHECK_MAX_AGE", 1.0)

# Accounts: the site's own user model (users/models.py), in place from the first migration

AUTH_USER_MODEL = "users.User"

# Passwords: new hashes with Argon2 (argon2-cffi); PBKDF2 second, so existing hashes still verify
# (and are re-hashed with Argon2 at the next sign-in).

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Language and time

LANGUAGE_CODE = "en"
TIME_ZONE = "{{ cookiecutter.time_zone }}"
USE_I18N = True
USE_TZ = True

# Static files: collected at build time, served by WhiteNoise with hashed names. Uploaded files
# (media): in media/ (git-ignored) for local development and the tests; production decides.

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Security headers that hold in every environment

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_COOKIE_HTTPONLY = True

# The pages use no inline script or style, so the policy can forbid both everywhere, and the
# admin works under it. Local development uses the same policy, so a violation shows up early.
{%- if cookiecutter.django_version == "5.2" %}
# Django 5.2 has no Content-Security-Policy support of its own; django-csp sends the header.
{%- else %}
# Django sends the header itself (ContentSecurityPolicyMiddleware, SECURE_CSP).
NONE, SELF = CSP.NONE, CSP.SELF
{%- endif %}
CONTENT_SECURITY_POLICY_DIRECTIVES = {
    "default-src": [NONE],
    "script-src": [SELF],
    "style-src": [SELF],
    "img-src": [SELF, "data:"],
    "font-src": [SELF],
    "connect-src": [SELF],
    "manifest-src": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
    "base-uri": [NONE],
}
{%- if cookiecutter.django_version == "5.2" %}
CONTENT_SECURITY_POLICY = {"DIRECTIVES": CONTENT_SECURITY_POLICY_DIRECTIVES}
{%- else %}
SECURE_CSP = CONTENT_SECURITY_POLICY_DIRECTIVES
{%- endif %}

# Background tasks: Django's tasks interface ({% if cookiecutter.django_version == "5.2" %}the django-tasks backport of 6.x's django.tasks{% else %}django.tasks{% endif %}), queued
# in PostgreSQL by django-tasks-db and run by the worker service (manage.py worker).

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Seconds the worker waits between looks at an empty queue.
WORKER_INTERVAL = env_float("WORKER_INTERVAL", 1.0)
# A task still RUNNING this many seconds after it started is taken to belong to a worker that
# was killed (SIGKILL, out of memory): the next worker to start puts it back in the queue.
TASK_RUNNING_TIMEOUT = env_int("TASK_RUNNING_TIMEOUT", 900, minimum=1)
# Seconds a starting worker waits for the web service's pre-deploy step to apply migrations.
WORKER_MIGRATION_WAIT = env_int("WORKER_MIGRATION_WAIT", 300, minimum=0)

# E-mail: a request never talks to a mail server. EMAIL_BACKEND queues each message as a task
# (mail.py); the worker sends it through MAIL_DELIVERY_BACKEND, which writes it to the log
# unless production configures a way out.

EMAIL_BACKEND = "{{ cookiecutter.project_slug }}.mail.TaskEmailBackend"
MAIL_DELIVERY_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Seconds one delivery attempt may take (SMTP or the e-mail API) before it fails.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL",
    {{ cookiecutter.author_email|python_string }},
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [
    (
        {{ cookiecutter.author_name|python_string }},
        {{ cookiecutter.author_email|python_string }},
    ),
]

# Error reports never query the database (it may be what failed) nor show URLs with credentials

DEFAULT_EXCEPTION_REPORTER_FILTER = "{{ cookiecutter.project_slug }}.errors.ReporterFilter"

# ---------------------------------------------------------------- admin sign-in guards (issue 11)
# django-axes counts failed sign-ins per (username, client address). After AXES_FAILURE_LIMIT
# failures that pair is refused (429, templates/429.html), the right password included, until
# AXES_COOLOFF_MINUTES have passed; the same username from another address still signs in, so
# nobody can lock the owners out. The state is in the database: every replica sees it. Lift a
# lock early with `manage.py axes_reset_ip_username <address> <username>` (README).
# The client address is X-Real-IP, which Railway's edge writes (client_address.py).

from datetime import timedelta  # noqa: E402

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "{{ cookiecutter.project_slug }}.client_address.client_address"
AXES_LOCKOUT_TEMPLATE = "429.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True
# Failed attempts during a lockout do not extend it: the cool-off ends when it said it would.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Days `manage.py housekeeping` keeps django-axes' access and failure logs.
AXES_LOG_RETENTION_DAYS = env_int("AXES_LOG_RETENTION_DAYS", 30, minimum=1)
#: The request header that holds the client's address (None: REMOTE_ADDR). Production: X-Real-IP.
CLIENT_ADDRESS_HEADER = None
{%- if cookiecutter.admin_two_factor %}

# Two-factor sign-in for staff (django-otp, TOTP): urls.py makes the admin require a verified
# device. Enroll with `manage.py enroll_two_factor <username>` (README).
OTP_TOTP_ISSUER = PROJECT_NAME
# The admin shows a device's key and QR code only while it is unconfirmed.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
{%- endif %}
# ---------------------------------------------------------------- end of admin sign-in guards

# Logging: everything to standard output, where Railway collects it (logs.py)

LOGGING = logging_config(json_lines=False, level=env_str("DJANGO_LOG_LEVEL", "INFO").upper())
