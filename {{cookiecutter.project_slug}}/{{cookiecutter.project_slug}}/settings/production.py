"""Production settings for Railway.

Everything comes from the environment. The only variables a first deploy needs are SECRET_KEY
and DATABASE_URL; the rest are either injected by Railway (PORT, RAILWAY_PUBLIC_DOMAIN, ...) or
optional. DEBUG is off and no variable can turn it on.
"""

from ..logs import logging_config
from .base import *  # noqa: F403
from .base import database_config
from .environment import (
    env_bool,
{%- if cookiecutter.use_sentry %}
    env_float,
{%- endif %}
    env_int,
    env_list,
    env_str,
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

# E-mail
{%- if cookiecutter.email_backend == "smtp" %}
# Sent through SMTP once EMAIL_HOST is set; until then written to the log, so the first deploy
# does not depend on a mail server.

EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 10
    # Server errors are also mailed to ADMINS (with no local values: see errors.py).
    LOGGING["loggers"]["django"]["handlers"] = ["mail_admins"]  # noqa: F405
{%- else %}
# Written to the log (the console backend from base); choose SMTP by changing EMAIL_BACKEND.
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
