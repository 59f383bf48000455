"""Production settings for Railway.

Everything comes from the environment. The only variables a first deploy needs are SECRET_KEY
and DATABASE_URL; the rest are either injected by Railway (PORT, RAILWAY_PUBLIC_DOMAIN, ...) or
optional. DEBUG is off and no variable can turn it on.
"""
{%- if cookiecutter.media_storage == "bucket" %}

from botocore.config import Config
{%- endif %}

from ..logs import logging_config
from .base import *  # noqa: F403
from .base import database_config
from .environment import (
{%- if cookiecutter.email_backend == "api" %}
    EMAIL_PROVIDERS,
{%- endif %}
{%- if cookiecutter.media_storage == "bucket" %}
    bucket_addressing_style,
{%- endif %}
{%- if cookiecutter.email_backend == "api" %}
    email_provider,
    env_api_url,
{%- endif %}
    env_bool,
{%- if cookiecutter.use_sentry or cookiecutter.media_storage == "bucket" %}
    env_float,
{%- endif %}
    env_int,
    env_list,
    env_str,
{%- if cookiecutter.media_storage == "bucket" %}
    require_bucket_variables,
{%- endif %}
    require_database_url,
    require_secret_key,
)

DEBUG = False

SECRET_KEY = require_secret_key()

# Logs: one JSON object per line on stdout, which Railway's log explorer can filter (logs.py).
LOGGING = logging_config(json_lines=True, level=env_str("DJANGO_LOG_LEVEL", "INFO").upper())

# The client's address, for login throttling and the audit trail: Railway's edge writes it in
# X-Real-IP. This assumes the edge is the only way in (true on Railway: a service has no other
# public port); REMOTE_ADDR is the edge's own address (client_address.py).
CLIENT_ADDRESS_HEADER = "HTTP_X_REAL_IP"

# Hosts: Railway's public domain, its healthcheck probe, and any extra hosts. The probe sends
# Host: healthcheck.railway.app over plain HTTP; without it here the first deploy never goes live.

RAILWAY_HEALTHCHECK_HOST = "healthcheck.railway.app"
PUBLIC_HOSTS = [
    host
    for host in [
        env_str("RAILWAY_PUBLIC_DOMAIN"),
{%- if cookiecutter.custom_domain %}
        "{{ cookiecutter.custom_domain }}",
{%- endif %}
        *env_list("DJANGO_ALLOWED_HOSTS"),
    ]
    if host
]
ALLOWED_HOSTS = [*dict.fromkeys(PUBLIC_HOSTS), RAILWAY_HEALTHCHECK_HOST]
CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in dict.fromkeys(PUBLIC_HOSTS)]

# HTTPS: TLS ends at Railway's edge, which tells us the original scheme in X-Forwarded-Proto.
# The health paths stay reachable over plain HTTP for the probe.

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Sending "preload" does not add the domain to browsers' lists; only a submission does.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Cookies: HTTPS only, hidden from scripts, and locked to this host by the __Host- prefix.

SESSION_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_NAME = "__Host-csrftoken"

# Database

DATABASES = {
    "default": database_config(
        require_database_url(), conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)
    ),
}

# Static files: hashed, compressed (Brotli and gzip), cached for a year by browsers

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Only the hashed copies are kept, compressed and served: pages name files through the static tag
# (the hashed name), and the unhashed copies would double the build's compression work, the
# image's static files and the table WhiteNoise reads at start-up. /static/css/site.css is a 404;
# /static/css/site.<hash>.css is the file.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
{%- if cookiecutter.media_storage == "bucket" %}

# Uploaded files: a Railway Storage Bucket (S3 API), configured from the variables the bucket
# gives the service by reference, under its own names. Nothing is written to the container, whose
# files vanish at each deploy and differ between replicas. The bucket is private: pages link to
# files with presigned URLs that expire.

BUCKET = require_bucket_variables()
# Seconds to connect, and to wait for each answer, before an upload or /health/ gives up.
BUCKET_TIMEOUT = env_float("BUCKET_TIMEOUT", 5.0)
# "virtual" (bucket.host, Railway's default) or "path" (host/bucket, for older buckets: the
# bucket's Credentials tab says which).
AWS_S3_ADDRESSING_STYLE = bucket_addressing_style()
STORAGES["default"] = {
    "BACKEND": "storages.backends.s3.S3Storage",
    "OPTIONS": {
        "bucket_name": BUCKET["BUCKET"],
        "access_key": BUCKET["ACCESS_KEY_ID"],
        "secret_key": BUCKET["SECRET_ACCESS_KEY"],
        "region_name": BUCKET["REGION"],
        "endpoint_url": BUCKET["ENDPOINT"],
        "addressing_style": AWS_S3_ADDRESSING_STYLE,
        "signature_version": "s3v4",
        "default_acl": "private",
        "querystring_auth": True,
        # A presigned link works this many seconds (default: one hour).
        "querystring_expire": env_int("BUCKET_URL_EXPIRY", 3600, minimum=60),
        "file_overwrite": False,
        "client_config": Config(
            connect_timeout=BUCKET_TIMEOUT,
            read_timeout=BUCKET_TIMEOUT,
            # No retries: an upload makes two calls (does the name exist? then the write), so a
            # bucket that hangs costs at most 2 x BUCKET_TIMEOUT, well inside GUNICORN_TIMEOUT.
            retries={"mode": "standard", "total_max_attempts": 1},
            signature_version="s3v4",
            s3={"addressing_style": AWS_S3_ADDRESSING_STYLE},
        ),
    },
}
{%- else %}

# Uploaded files: this site was generated without a bucket (media_storage "none"), and a
# container's files vanish at each deploy, so production refuses to store uploads (media.py).

STORAGES["default"] = {"BACKEND": "{{ cookiecutter.project_slug }}.media.UploadsRefusedStorage"}
{%- endif %}

{%- if cookiecutter.use_redis %}

# Cache: Redis when REDIS_URL is set, shared by every replica; short timeouts so a slow Redis
# cannot hold a request.

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
{%- endif %}

# E-mail: requests queue mail as tasks (base); the worker delivers it through
# MAIL_DELIVERY_BACKEND. Until the way out is configured, mail is written to the log, so the first
# deploy needs no mail service, and `manage.py deploy` says mail is not configured.
{%- if cookiecutter.email_backend == "api" %}
# An e-mail service's HTTPS API (django-anymail): the one way out on every Railway plan, since
# Railway opens SMTP only from the Pro plan up.

EMAIL_PROVIDER = email_provider()
EMAIL_API_KEY = env_str("EMAIL_API_KEY")
MAIL_SETUP_HINT = f"set EMAIL_API_KEY to your {EMAIL_PROVIDER.title()} API key"
if EMAIL_API_KEY:
    MAIL_DELIVERY_BACKEND, key_setting, url_setting = EMAIL_PROVIDERS[EMAIL_PROVIDER]
    ANYMAIL = {key_setting: EMAIL_API_KEY, "REQUESTS_TIMEOUT": EMAIL_TIMEOUT}  # noqa: F405
    EMAIL_API_URL = env_api_url("EMAIL_API_URL")
    if EMAIL_API_URL:
        ANYMAIL[url_setting] = EMAIL_API_URL
    # Server errors are also mailed to ADMINS (with no local values: see errors.py).
    LOGGING["loggers"]["django"]["handlers"] = ["mail_admins"]  # noqa: F405
{%- elif cookiecutter.email_backend == "smtp" %}
# SMTP, once EMAIL_HOST is set. Railway opens SMTP only from the Pro plan up: on Free, Trial and
# Hobby every attempt times out (choose the e-mail API instead).

EMAIL_HOST = env_str("EMAIL_HOST")
MAIL_SETUP_HINT = "set EMAIL_HOST (SMTP works on Railway's Pro plan and above only)"
if EMAIL_HOST:
    MAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    # Server errors are also mailed to ADMINS (with no local values: see errors.py).
    LOGGING["loggers"]["django"]["handlers"] = ["mail_admins"]  # noqa: F405
{%- else %}
# The console choice: mail is written to the worker's log. To send it, set MAIL_DELIVERY_BACKEND
# here (the template's "api" choice shows how).

MAIL_SETUP_HINT = "this site was generated with the console e-mail choice"
{%- endif %}

{%- if cookiecutter.use_sentry %}

# Sentry: on only when SENTRY_DSN is set; never sends personal data.

SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("RAILWAY_ENVIRONMENT_NAME", "production"),
        release=env_str("RAILWAY_GIT_COMMIT_SHA") or env_str("RAILWAY_DEPLOYMENT_ID") or None,
        send_default_pii=False,
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
    )
{%- endif %}
