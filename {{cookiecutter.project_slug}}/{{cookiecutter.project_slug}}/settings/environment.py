"""Every environment variable the settings read goes through this module.

A setting that cannot work is reported as one line that names the variable and says how to fix
it, and the process stops: a deploy log should never start with a 40-line traceback about a
KeyError.
"""

import os
import sys
from urllib.parse import urlsplit

#: Django's own deployment check (security.W009) calls a key weak when it is shorter than this,
#: has fewer distinct characters than MIN_SECRET_KEY_UNIQUE, or starts with the insecure prefix.
MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE = 5
INSECURE_KEY_PREFIX = "django-insecure"

GENERATE_KEY_HINT = (
    'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
)


class ConfigurationError(Exception):
    """A variable is missing or unusable; the message is one line meant for a person."""


def exit_on_configuration_error(start):
    """Run ``start()``; turn a ConfigurationError into one line on stderr and exit status 1.

    manage.py, wsgi.py and asgi.py wrap their start-up in this, so a missing variable stops the
    process with a sentence instead of a traceback.
    """
    try:
        return start()
    except ConfigurationError as error:
        sys.exit(f"ERROR: {error}")


def env_str(name, default=""):
    """A string variable, stripped; the default when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name, default):
    """A yes/no variable: true/false, yes/no, on/off or 1/0 (any case)."""
    value = env_str(name).lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={value!r} is not a yes/no value; use true or false")


def env_int(name, default):
    """A whole-number variable."""
    return _env_number(name, default, int, "a whole number")


def env_float(name, default):
    """A decimal variable, such as a sample rate."""
    return _env_number(name, default, float, "a number")


def _env_number(name, default, parse, kind):
    value = env_str(name)
    if not value:
        return default
    try:
        return parse(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not {kind}") from None


def env_list(name):
    """A comma-separated variable as a list, blanks dropped."""
    return [item.strip() for item in env_str(name).split(",") if item.strip()]


def secret_key_problem(key):
    """Why a secret key is unfit for production, or None when it is fine."""
    if not key:
        return "is not set"
    if key.startswith(INSECURE_KEY_PREFIX):
        return f"starts with {INSECURE_KEY_PREFIX!r}"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is too short ({len(key)} characters, at least {MIN_SECRET_KEY_LENGTH} needed)"
    if len(set(key)) < MIN_SECRET_KEY_UNIQUE:
        return f"has fewer than {MIN_SECRET_KEY_UNIQUE} different characters"
    return None


def require_secret_key():
    """SECRET_KEY from the environment, refused when Django's deploy check would call it weak."""
    key = os.environ.get("SECRET_KEY", "")
    problem = secret_key_problem(key)
    if problem:
        raise ConfigurationError(
            f"SECRET_KEY {problem}: set it in the service's variables; {GENERATE_KEY_HINT}"
        )
    return key


def require_database_url():
    """DATABASE_URL from the environment: a PostgreSQL URL with a host and a database name."""
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
