"""Mail is queued as a task and sent by the task: mail.py, tasks.py and the production choice."""

import json

from django.core import mail
from django.core.mail import EmailMultiAlternatives, mail_admins, send_mail
from django.test import SimpleTestCase, TestCase, override_settings

from {{ cookiecutter.project_slug }}.mail import message_from_dict, message_to_dict

from .helpers import production_env, run_python

QUEUED = "{{ cookiecutter.project_slug }}.mail.TaskEmailBackend"

# Run by `manage.py shell -c` (which turns a settings error into one line): prints where the
# production settings send mail, as JSON.
MAIL_SETTINGS = """
import json
from django.conf import settings
print("MAIL", json.dumps({
    "delivery": settings.MAIL_DELIVERY_BACKEND,
    "email_backend": settings.EMAIL_BACKEND,
    "anymail": getattr(settings, "ANYMAIL", None),
    "timeout": settings.EMAIL_TIMEOUT,
    "mails_errors": "mail_admins" in settings.LOGGING["loggers"]["django"]["handlers"],
}))
"""


def production_mail(**changes):
    """Return (exit code, the mail settings or the error text) of production with ``changes``."""
    result = run_python(["manage.py", "shell", "-c", MAIL_SETTINGS], production_env(**changes))
    if result.returncode != 0:
        return result.returncode, result.stderr.strip()
    [line] = [line for line in result.stdout.splitlines() if line.startswith("MAIL ")]
    return 0, json.loads(line.removeprefix("MAIL "))


class MessageRoundTripTests(SimpleTestCase):
    def test_every_field_survives_the_queue(self):
        message = EmailMultiAlternatives(
            subject="Réservation",
            body="plain text",
            from_email="from@example.org",
            to=["a@example.org"],
            cc=["c@example.org"],
            bcc=["b@example.org"],
            reply_to=["r@example.org"],
            headers={"X-Tag": "1"},
        )
        message.attach_alternative("<p>html</p>", "text/html")
        message.attach("list.csv", b"a,b\n", "text/csv")
        message.attach("blob.bin", b"\x00\xff", "application/octet-stream")
        data = json.loads(json.dumps(message_to_dict(message)))
        again = message_from_dict(data)
        for field in ("subject", "body", "from_email", "to", "cc", "bcc", "reply_to"):
            self.assertEqual(getattr(again, field), getattr(message, field), field)
        self.assertEqual(again.extra_headers, {"X-Tag": "1"})
        self.assertEqual(list(again.alternatives[0])[:2], ["<p>html</p>", "text/html"])
        self.assertEqual(
            [list(attachment)[:3] for attachment in again.attachments],
            [
                ["list.csv", "a,b\n", "text/csv"],
                ["blob.bin", b"\x00\xff", "application/octet-stream"],
            ],
        )


@override_settings(EMAIL_BACKEND=QUEUED)
class QueuedMailTests(TestCase):
    """The test settings run tasks at once (ImmediateBackend) and deliver into mail.outbox."""

    def test_send_mail_goes_through_the_task(self):
        sent = send_mail("Hello", "body", None, ["someone@example.org"])
        self.assertEqual(sent, 1)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["someone@example.org"])
        self.assertEqual(mail.outbox[0].from_email, "{{ cookiecutter.author_email }}")

    def test_error_mail_to_admins_goes_through_the_task(self):
        mail_admins("Broken", "traceback")
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["{{ cookiecutter.author_email }}"])

    @override_settings(MAIL_DELIVERY_BACKEND="no.such.Backend")
    def test_a_failed_delivery_is_logged_as_one_error(self):
        with self.assertLogs("{{ cookiecutter.project_slug }}.tasks", "ERROR") as logs:
            send_mail("Hello", "body", None, ["someone@example.org"])
        self.assertEqual(mail.outbox, [])
        [line] = logs.output
        self.assertIn("mail 'Hello' to 1 recipient(s) not sent through no.such.Backend", line)
        self.assertNotIn("someone@example.org", line)


class ProductionMailChoiceTests(SimpleTestCase):
    def test_without_configuration_mail_goes_to_the_log(self):
        code, found = production_mail()
        self.assertEqual(code, 0, found)
        self.assertEqual(found["email_backend"], QUEUED)
        self.assertEqual(found["delivery"], "django.core.mail.backends.console.EmailBackend")
        self.assertFalse(found["mails_errors"])
{%- if cookiecutter.email_backend == "api" %}

    def test_the_api_key_turns_on_the_provider(self):
        for provider, backend, key_setting in [
            ("", "anymail.backends.resend.EmailBackend", "RESEND_API_KEY"),
            ("Postmark", "anymail.backends.postmark.EmailBackend", "POSTMARK_SERVER_TOKEN"),
        ]:
            with self.subTest(provider=provider):
                code, found = production_mail(
                    EMAIL_PROVIDER=provider, EMAIL_API_KEY="key-1", EMAIL_TIMEOUT="4"
                )
                self.assertEqual(code, 0, found)
                self.assertEqual(found["delivery"], backend)
                self.assertEqual(found["anymail"], {key_setting: "key-1", "REQUESTS_TIMEOUT": 4})
                self.assertTrue(found["mails_errors"])

    def test_bad_provider_or_url_stops_start_up_with_one_line(self):
        for changes, expected in [
            ({"EMAIL_PROVIDER": "pigeon"}, "EMAIL_PROVIDER='pigeon' is not supported"),
            (
                {"EMAIL_API_KEY": "k", "EMAIL_API_URL": "http://api.example.org/"},
                "EMAIL_API_URL='http://api.example.org/' must be an https:// URL",
            ),
            ({"EMAIL_TIMEOUT": "0"}, "EMAIL_TIMEOUT=0 must be at least 1"),
        ]:
            with self.subTest(changes=changes):
                code, error = production_mail(**changes)
                self.assertEqual(code, 1)
                self.assertEqual(len(error.splitlines()), 1, error)
                self.assertIn(expected, error)
{%- elif cookiecutter.email_backend == "smtp" %}

    def test_the_host_turns_on_smtp(self):
        code, found = production_mail(EMAIL_HOST="smtp.example.org")
        self.assertEqual(code, 0, found)
        self.assertEqual(found["delivery"], "django.core.mail.backends.smtp.EmailBackend")
        self.assertTrue(found["mails_errors"])
{%- endif %}
