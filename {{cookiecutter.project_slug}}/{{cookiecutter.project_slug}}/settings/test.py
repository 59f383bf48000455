"""Settings for the test suite (``python manage.py test`` picks them).

PostgreSQL when DATABASE_URL is set, as in CI; SQLite otherwise, so the tests also run on a
laptop with nothing installed. The secret key is a fixed, public test value: it signs nothing
that leaves the test run.
"""

from .base import *  # noqa: F403
from .base import database_config
from .environment import env_str

DEBUG = False

SECRET_KEY = "test-only-key-not-secret-" + "x" * 40  # noqa: S105

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

DATABASES = {
    "default": database_config(env_str("DATABASE_URL", "sqlite://:memory:"), conn_max_age=0),
}

# Fast hashing: the tests create users, and real hashing would dominate their run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The client address comes from X-Real-IP, as behind Railway's edge, so tests can vary it.
CLIENT_ADDRESS_HEADER = "HTTP_X_REAL_IP"

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
