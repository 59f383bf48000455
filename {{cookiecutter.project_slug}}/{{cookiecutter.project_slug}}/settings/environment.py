"""Read environment variables: the settings and gunicorn.conf.py read every variable here.

A variable that cannot work is reported as one line that names it and says how to fix it, and
the process stops: a deploy log should never start with a 40-line traceback about a KeyError.
"""

import os
import sys
from urllib.parse import urlsplit

# The limits of Django's own deployment check (security.W009), so a key it calls weak is refused.
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)

#: Variables whose values are secret: masked in what ``manage.py deploy`` prints, and hidden
#: (with the settings of the same names) in error reports.
SECRET_VARIABLES = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "SENTRY_DSN",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_API_KEY",
{%- if cookiecutter.media_storage == "bucket" %}
    "SECRET_ACCESS_KEY",
{%- endif %}
)

GENERATE_KEY_HINT = (
    'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
)


class ConfigurationError(Exception):
    """A variable is missing or unusable; the message is one line meant for a person."""


def exit_on_configuration_error(start):
    """Return ``start()``, or exit with status 1 and one line on stderr on a ConfigurationError.

    manage.py, wsgi.py, asgi.py and gunicorn.conf.py start up through this, so a missing
    variable stops the process with a sentence instead of a traceback.
    """
    try:
        return start()
    except ConfigurationError as error:
        sys.exit(f"ERROR: {error}")


def env_str(name, default=""):
    """Return the variable ``name``, stripped, or ``default`` when it is unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name, default):
    """Return a yes/no variable (true/false, yes/no, on/off or 1/0, any case) as a bool."""
    value = env_str(name).lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={value!r} is not a yes/no value; use true or false")


def env_int(name, default, minimum=None):
    """Return a whole-number variable; refuse one below ``minimum`` when it is given."""
    value = _env_number(name, default, int, "a whole number")
    if minimum is not None and value < minimum:
        raise ConfigurationError(
            f"{name}={value!r} must be at least {minimum} (default: {default})"
        )
    return value


def env_float(name, default):
    """Return a decimal variable, such as a sample rate, as a float."""
    return _env_number(name, default, float, "a number")


def _env_number(name, default, parse, kind):
    value = env_str(name)
    if not value:
        return default
    try:
        return parse(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not {kind} (default: {default})") from None


def env_list(name):
    """Return a comma-separated variable as a list, blanks dropped."""
    return [item.strip() for item in env_str(name).split(",") if item.strip()]


{%- if cookiecutter.email_backend == "api" %}


#: The e-mail APIs EMAIL_PROVIDER may name (the first is the default): django-anymail's backend
#: for each, and the names of its API key and API URL settings in ANYMAIL.
EMAIL_PROVIDERS = {
    "resend": ("anymail.backends.resend.EmailBackend", "RESEND_API_KEY", "RESEND_API_URL"),
    "postmark": (
        "anymail.backends.postmark.EmailBackend",
        "POSTMARK_SERVER_TOKEN",
        "POSTMARK_API_URL",
    ),
    "mailgun": ("anymail.backends.mailgun.EmailBackend", "MAILGUN_API_KEY", "MAILGUN_API_URL"),
    "brevo": ("anymail.backends.brevo.EmailBackend", "BREVO_API_KEY", "BREVO_API_URL"),
}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def email_provider():
    """Return EMAIL_PROVIDER in lower case (default: the first of EMAIL_PROVIDERS)."""
    default = next(iter(EMAIL_PROVIDERS))
    provider = env_str("EMAIL_PROVIDER", default).lower()
    if provider not in EMAIL_PROVIDERS:
        choices = ", ".join(EMAIL_PROVIDERS)
        raise ConfigurationError(
            f"EMAIL_PROVIDER={provider!r} is not supported: use one of {choices} (default: {default})"
        )
    return provider


def env_api_url(name):
    """Return an API base URL, or "" when unset: https, or http only to this machine (tests)."""
    url = env_str(name)
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigurationError(f"{name}={url!r} is not a valid URL") from None
    local = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not parts.hostname or not (parts.scheme == "https" or local):
        raise ConfigurationError(
            f"{name}={url!r} must be an https:// URL (plain http only to 127.0.0.1 or localhost)"
        )
    return url
{%- endif %}


def secret_key_problem(key):
    """Return why a secret key is unfit for production, or None when it is fine."""
    if not key:
        return "is not set"
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"starts with {SECRET_KEY_INSECURE_PREFIX!r}"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"is too short ({len(key)} characters, at least {SECRET_KEY_MIN_LENGTH} needed)"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters"
    return None


def require_secret_key():
    """Return SECRET_KEY; refuse one that Django's deployment check would call weak."""
    key = os.environ.get("SECRET_KEY", "")
    problem = secret_key_problem(key)
    if problem:
        raise ConfigurationError(
            f"SECRET_KEY {problem}: set it in the service's variables; {GENERATE_KEY_HINT}"
        )
    return key


def require_database_url():
    """Return DATABASE_URL; refuse anything but a PostgreSQL URL with a host and a database."""
    url = env_str("DATABASE_URL")
    fix = "on Railway set it to {% raw %}${{Postgres.DATABASE_URL}}{% endraw %} (a reference to the PostgreSQL service)"
    if not url:
        raise ConfigurationError(f"DATABASE_URL is not set: {fix}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"DATABASE_URL is not a valid URL: {fix}") from None
    if parts.scheme not in ("postgres", "postgresql"):
        shown = parts.scheme or "none"
        raise ConfigurationError(
            f"DATABASE_URL must start with postgres:// or postgresql:// (scheme is {shown!r}): {fix}"
        )
    if not parts.hostname or not parts.path.strip("/") or port == 0:
        raise ConfigurationError(f"DATABASE_URL needs a host and a database name: {fix}")
    return url

{%- if cookiecutter.media_storage == "bucket" %}


#: The variables a Railway Storage Bucket gives a service by reference, under these names.
BUCKET_VARIABLES = ("BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "REGION", "ENDPOINT")


def require_bucket_variables():
    """Return the bucket's variables by name; refuse a missing one or an ENDPOINT that is no URL."""
    values = {name: env_str(name) for name in BUCKET_VARIABLES}
    missing = [name for name, value in values.items() if not value]
    fix = (
        "on Railway set each to a reference to the bucket, e.g. "
        "{% raw %}BUCKET=${{Bucket.BUCKET}}{% endraw %} (README, 'Uploaded files')"
    )
    if missing:
        raise ConfigurationError(f"{', '.join(missing)} not set: {fix}")
    parts = urlsplit(values["ENDPOINT"])
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(
            f"ENDPOINT={values['ENDPOINT']!r} must be a URL like https://storage.railway.app: {fix}"
        )
    return values


def bucket_addressing_style():
    """Return AWS_S3_ADDRESSING_STYLE: ``virtual`` (the default) or ``path``, for older buckets."""
    style = env_str("AWS_S3_ADDRESSING_STYLE", "virtual").lower()
    if style not in ("virtual", "path"):
        raise ConfigurationError(
            f"AWS_S3_ADDRESSING_STYLE={style!r} must be virtual or path"
            " (the bucket's Credentials tab on Railway says which)"
        )
    return style
{%- endif %}
