"""Production settings under Railway's variables, and the one-line errors when one is wrong."""

import functools
import json
import unittest

from .helpers import PUBLIC_DOMAIN, production_env, run_python

SHOW_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "CSRF_TRUSTED_ORIGINS": settings.CSRF_TRUSTED_ORIGINS,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "SECURE_PROXY_SSL_HEADER": list(settings.SECURE_PROXY_SSL_HEADER),
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "STATICFILES_BACKEND": settings.STORAGES["staticfiles"]["BACKEND"],
    "DB_OPTIONS": settings.DATABASES["default"].get("OPTIONS", {}),
    "DB_NAME": settings.DATABASES["default"]["NAME"],
    "CONN_HEALTH_CHECKS": settings.DATABASES["default"]["CONN_HEALTH_CHECKS"],
}))
"""


def production_settings(**changes):
    result = run_python(["-c", SHOW_SETTINGS], production_env(**changes))
    if result.returncode != 0:
        raise AssertionError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


@functools.cache
def default_production_settings():
    """Return production_settings() under Railway's variables alone, read once per test run."""
    return production_settings()


class RailwayVariablesTests(unittest.TestCase):
    def test_hosts_come_from_railway_without_any_allowed_hosts_variable(self):
        settings = default_production_settings()
        self.assertIn(PUBLIC_DOMAIN, settings["ALLOWED_HOSTS"])
        self.assertIn("healthcheck.railway.app", settings["ALLOWED_HOSTS"])
        self.assertIn(f"https://{PUBLIC_DOMAIN}", settings["CSRF_TRUSTED_ORIGINS"])
{%- if cookiecutter.custom_domain %}
        self.assertIn("{{ cookiecutter.custom_domain }}", settings["ALLOWED_HOSTS"])
        self.assertIn("https://{{ cookiecutter.custom_domain }}", settings["CSRF_TRUSTED_ORIGINS"])
{%- endif %}

    def test_extra_hosts_are_added(self):
        settings = production_settings(DJANGO_ALLOWED_HOSTS="www.example.org, example.org")
        self.assertIn("www.example.org", settings["ALLOWED_HOSTS"])
        self.assertIn("https://example.org", settings["CSRF_TRUSTED_ORIGINS"])
        self.assertNotIn("*", settings["ALLOWED_HOSTS"])

    def test_debug_cannot_be_switched_on(self):
        for value in ("True", "true", "1", "yes"):
            with self.subTest(DEBUG=value):
                self.assertIs(production_settings(DEBUG=value, DJANGO_DEBUG=value)["DEBUG"], False)

    def test_https_everywhere(self):
        settings = default_production_settings()
        self.assertTrue(settings["SECURE_SSL_REDIRECT"])
        self.assertGreaterEqual(settings["SECURE_HSTS_SECONDS"], 31_536_000)
        self.assertEqual(settings["SECURE_PROXY_SSL_HEADER"], ["HTTP_X_FORWARDED_PROTO", "https"])
        self.assertTrue(settings["SESSION_COOKIE_SECURE"])
        self.assertTrue(settings["CSRF_COOKIE_SECURE"])

    def test_static_files_are_hashed_and_compressed(self):
        self.assertEqual(
            default_production_settings()["STATICFILES_BACKEND"],
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )

    def test_database_from_url_with_time_limits(self):
        settings = production_settings(
            DATABASE_URL="postgresql://app:pw@db.railway.internal:5432/railway"
        )
        self.assertEqual(settings["DB_NAME"], "railway")
        self.assertTrue(settings["CONN_HEALTH_CHECKS"])
        self.assertGreater(settings["DB_OPTIONS"]["connect_timeout"], 0)
        self.assertIn("statement_timeout=", settings["DB_OPTIONS"]["options"])


class MissingOrBadVariablesTests(unittest.TestCase):
    """Start-up (gunicorn imports wsgi.py) and manage.py stop with one line naming the variable."""

    def assert_stops_with_one_line(self, variable, **changes):
        env = production_env(**changes)
        for command in (
            ["-c", "import {{ cookiecutter.project_slug }}.wsgi"],
            ["manage.py", "deploy", "--dry-run"],
        ):
            with self.subTest(command=command[-1]):
                result = run_python(command, env)
                self.assertNotEqual(result.returncode, 0)
                lines = result.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, result.stderr)
                self.assertTrue(lines[0].startswith("ERROR: "), lines[0])
                self.assertIn(variable, lines[0])
                self.assertNotIn("Traceback", result.stderr)
                if env.get("SECRET_KEY"):
                    self.assertNotIn(env["SECRET_KEY"], result.stderr + result.stdout)

    def test_missing_secret_key(self):
        self.assert_stops_with_one_line("SECRET_KEY", SECRET_KEY=None)

    def test_short_secret_key(self):
        self.assert_stops_with_one_line("SECRET_KEY", SECRET_KEY="too-short-key")

    def test_insecure_default_secret_key(self):
        self.assert_stops_with_one_line("SECRET_KEY", SECRET_KEY="django-insecure-" + "a1b2c3" * 10)

    def test_secret_key_with_few_distinct_characters(self):
        self.assert_stops_with_one_line("SECRET_KEY", SECRET_KEY="abab" * 20)

    def test_missing_database_url(self):
        self.assert_stops_with_one_line("DATABASE_URL", DATABASE_URL=None)

    def test_database_url_of_another_database(self):
        self.assert_stops_with_one_line("DATABASE_URL", DATABASE_URL="mysql://u:p@db:3306/app")

    def test_database_url_that_is_not_a_url(self):
        self.assert_stops_with_one_line("DATABASE_URL", DATABASE_URL="Postgres.DATABASE_URL")

    def test_database_url_without_database_name(self):
        self.assert_stops_with_one_line("DATABASE_URL", DATABASE_URL="postgres://u:p@db:5432/")

    def test_bad_number(self):
        self.assert_stops_with_one_line("DATABASE_CONN_MAX_AGE", DATABASE_CONN_MAX_AGE="forever")


class GunicornSettingsTests(unittest.TestCase):
    """gunicorn.conf.py reads its numbers through the settings' reader, each at least 1."""

    def load(self, **changes):
        return run_python(["gunicorn.conf.py"], production_env(**changes))

    def test_defaults_load(self):
        result = self.load()
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_bad_values_stop_with_one_line(self):
        for name, value in [
            ("GUNICORN_THREADS", "abc"),
            ("GUNICORN_THREADS", "0"),
            ("WEB_CONCURRENCY", "-1"),
            ("PORT", "http"),
            ("GUNICORN_TIMEOUT", "0"),
        ]:
            with self.subTest(name=name, value=value):
                result = self.load(**{name: value})
                self.assertEqual(result.returncode, 1)
                lines = result.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, result.stderr)
                self.assertTrue(lines[0].startswith(f"ERROR: {name}="), lines[0])
