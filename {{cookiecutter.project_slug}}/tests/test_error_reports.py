"""Error reports in production (the HTML one carries every frame's variables): no local values,
no credentials from URL settings."""

import json
import unittest

from .helpers import production_env, run_python

REPORT = """
import json
import sys
import django
from django.test import RequestFactory
from django.views.debug import ExceptionReporter
django.setup()

def view_that_fails():
    customer_note = "a private note"
    raise RuntimeError("boom")

try:
    view_that_fails()
except RuntimeError:
    info = sys.exc_info()
request = RequestFactory().get("/")
text = ExceptionReporter(request, *info).get_traceback_html()
print(json.dumps({"text": text}))
"""

REDIS_PASSWORD = "redis-password-in-a-url"
DATABASE_PASSWORD = "database-password-in-a-url"


class ErrorReportTests(unittest.TestCase):
    def report(self):
        env = production_env(
            REDIS_URL=f"redis://default:{REDIS_PASSWORD}@redis.railway.internal:6379",
            DATABASE_URL=f"postgres://app:{DATABASE_PASSWORD}@127.0.0.1:1/unreachable",
        )
        result = run_python(["-c", REPORT], env)
        if result.returncode != 0:
            raise AssertionError(result.stderr[-2000:])
        return json.loads(result.stdout.strip().splitlines()[-1])["text"]

    def test_report_names_local_variables_without_their_values(self):
        text = self.report()
        self.assertIn("RuntimeError", text)
        self.assertIn("customer_note", text)
        self.assertNotIn("a private note", text)

    def test_report_hides_credentials_from_settings(self):
        text = self.report()
        self.assertIn("DATABASES", text)  # the settings are in the report, cleansed
        self.assertNotIn(DATABASE_PASSWORD, text)
        self.assertNotIn(REDIS_PASSWORD, text)


DJANGO_LOG_HANDLERS = """
import json
import logging
import django
django.setup()
print(json.dumps([type(handler).__name__ for handler in logging.getLogger("django").handlers]))
"""


def django_log_handlers(**changes):
    result = run_python(["-c", DJANGO_LOG_HANDLERS], production_env(**changes))
    if result.returncode != 0:
        raise AssertionError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


class ErrorMailTests(unittest.TestCase):
    def test_errors_are_not_mailed_into_the_log(self):
        # Without a mail server, a mailed report would be written to stdout, hundreds of lines.
        self.assertNotIn("AdminEmailHandler", django_log_handlers())
{%- if cookiecutter.email_backend == "smtp" %}

    def test_errors_are_mailed_to_admins_once_a_mail_server_is_set(self):
        self.assertEqual(django_log_handlers(EMAIL_HOST="smtp.example.org"), ["AdminEmailHandler"])
{%- endif %}
