"""Settings for the test suite (``python manage.py test`` picks them).

PostgreSQL when DATABASE_URL is set, as in CI; SQLite otherwise, so the tests also run on a
laptop with nothing installed. The secret key is a fixed, public test value: it signs nothing
that leaves the test run.
"""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, database_config
from .environment import env_str

DEBUG = False

SECRET_KEY = "test-only-key-not-secret-" + "x" * 40  # noqa: S105

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

DATABASES = {
    "default": database_config(env_str("DATABASE_URL", "sqlite://:memory:"), conn_max_age=0),
}

# Fast hashing: the tests create users, and real hashing would dominate their run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tasks run at once, in the test's process; mail is queued as in production and delivered
# into django.core.mail.outbox.
TASKS = {
    "default": {
        "BACKEND": "{% if cookiecutter.django_version == "5.2" %}django_tasks{% else %}django.tasks{% endif %}.backends.immediate.ImmediateBackend",
    },
}
MAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# `manage.py lintmigrations` (django-migration-linter, a development tool): refuses a migration
# the release still running during a deploy would not survive (README, "Migrations during a
# deploy").
INSTALLED_APPS = [*INSTALLED_APPS, "django_migration_linter"]
MIGRATION_LINTER_OPTIONS = {
    # The site's own apps: a dependency's migrations (django-tasks-db's history) were written
    # for its own upgrade path and are not the site's to change.
    "include_apps": ["{{ cookiecutter.project_slug }}", "users"],
    # Migrations that drop or rename on purpose, as the second of two deploys: "0005_drop_body".
    "ignore_name": [],
}

# The client address comes from X-Real-IP, as behind Railway's edge, so tests can vary it.
CLIENT_ADDRESS_HEADER = "HTTP_X_REAL_IP"
