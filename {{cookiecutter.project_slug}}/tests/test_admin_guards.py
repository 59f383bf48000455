"""The admin's guards: throttled sign-in, {% if cookiecutter.admin_two_factor %}two-factor, {% endif %}the audit trail, request ids, JSON logs, housekeeping."""

import base64
import hashlib
import hmac
import io
import json
import logging
import re
import struct
import time
from datetime import timedelta

from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from {{ cookiecutter.project_slug }}.logs import RailwayJsonFormatter
from {{ cookiecutter.project_slug }}.settings import base

PASSWORD = "correct horse battery staple"  # noqa: S105 (a test user's password)
ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"
AUDIT_LOGGER = "{{ cookiecutter.project_slug }}.audit"


def totp(secret, at=None, step=30, digits=6):
    """Return the RFC 6238 code of a base32 ``secret`` at time ``at`` (now by default)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


class AdminGuardTestCase(TestCase):
    def setUp(self):
        self.user = get_user_model().objects.create_superuser(
            "owner", "owner@example.org", PASSWORD
        )
        self.login_url = reverse("admin:login")
        self.secret = None
{%- if cookiecutter.admin_two_factor %}
        self.secret = self.enroll("owner")
{%- endif %}

    def enroll(self, username, *options):
        """Run enroll_two_factor; return the secret it printed."""
        out = io.StringIO()
        call_command("enroll_two_factor", username, *options, stdout=out)
        return re.search(r"^secret: ([A-Z2-7]+)$", out.getvalue(), re.M)[1]

    def code(self, ahead=0):
        """Return the TOTP code ``ahead`` seconds from now, or "" without two-factor."""
        return totp(self.secret, at=time.time() + ahead) if self.secret else ""

    def sign_in(self, password, address, token=None, client=None):
        """Post the admin login form from ``address``; return the response."""
        data = {"username": "owner", "password": password, "next": reverse("admin:index")}
        if self.secret:
            data["otp_token"] = token if token is not None else totp(self.secret)
        client = client or self.client_class()
        return client.post(self.login_url, data, headers={"X-Real-IP": address})


class ThrottlingTests(AdminGuardTestCase):
    def test_lockout_is_per_username_and_address_and_can_be_lifted(self):
        statuses = [self.sign_in("wrong", ATTACKER).status_code for _ in range(8)]
        limit = base.AXES_FAILURE_LIMIT
        self.assertEqual(statuses[: limit - 1], [200] * (limit - 1))
        self.assertEqual(statuses[limit - 1 :], [429] * (len(statuses) - limit + 1))
        locked = self.sign_in(PASSWORD, ATTACKER)
        self.assertEqual(locked.status_code, 429, "the right password must wait for the cool-off")
        self.assertContains(locked, "Too many sign-in attempts", status_code=429)
        self.assertNotContains(locked, "Traceback", status_code=429)
        self.assertEqual(self.sign_in(PASSWORD, OWNER).status_code, 302)
        call_command("axes_reset_ip_username", ATTACKER, "owner", stdout=io.StringIO())
        # The next time step's code: the one just used would be refused as a replay.
        self.assertEqual(self.sign_in(PASSWORD, ATTACKER, token=self.code(30)).status_code, 302)

    def test_forwarded_for_does_not_change_the_address(self):
        for number in range(base.AXES_FAILURE_LIMIT):
            self.client.post(
                self.login_url,
                {"username": "owner", "password": "wrong"},
                headers={"X-Real-IP": ATTACKER, "X-Forwarded-For": f"192.0.2.{number}"},
            )
        self.assertEqual(self.sign_in(PASSWORD, ATTACKER).status_code, 429)

    def test_health_static_and_landing_are_not_counted(self):
        # (/health/ checks the database in a thread of its own; test_health covers it.)
        for path in ("/", "/health/live/", "/static/css/site.css"):
            for _ in range(base.AXES_FAILURE_LIMIT + 1):
                self.client.get(path, headers={"X-Real-IP": ATTACKER})
        self.assertEqual(AccessAttempt.objects.count(), 0)
        self.assertEqual(self.sign_in(PASSWORD, ATTACKER).status_code, 302)

    def test_defaults(self):
        self.assertEqual(base.AXES_FAILURE_LIMIT, 5)
        self.assertEqual(base.AXES_COOLOFF_TIME, timedelta(minutes=15))
        self.assertEqual(
            base.PASSWORD_HASHERS[:2],
            [
                "django.contrib.auth.hashers.Argon2PasswordHasher",
                "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            ],
        )
        self.assertNotEqual(base.ADMIN_URL, "admin/")
{%- if cookiecutter.admin_two_factor %}


class TwoFactorTests(AdminGuardTestCase):
    def test_right_code_signs_in_and_the_admin_answers(self):
        client = self.client_class()
        self.assertEqual(self.sign_in(PASSWORD, OWNER, client=client).status_code, 302)
        self.assertEqual(client.get(reverse("admin:index")).status_code, 200)

    def test_wrong_missing_and_replayed_codes_are_refused(self):
        code = self.code()
        self.assertEqual(self.sign_in(PASSWORD, OWNER, token="").status_code, 200)
        self.assertEqual(self.sign_in(PASSWORD, OWNER, token=code).status_code, 302)
        replay = self.sign_in(PASSWORD, OWNER, token=code)
        self.assertEqual(replay.status_code, 200, "a code must not work twice")
        wrong = str((int(self.code(30)) + 1) % 10**6).zfill(6)
        self.assertEqual(self.sign_in(PASSWORD, OWNER, token=wrong).status_code, 200)

    def test_password_alone_does_not_open_the_admin(self):
        client = self.client_class()
        client.force_login(self.user)
        self.assertEqual(client.get(reverse("admin:index")).status_code, 302)

    def test_secret_is_shown_once(self):
        with self.assertRaisesMessage(Exception, "already has a TOTP device"):
            self.enroll("owner")
        self.assertNotEqual(self.enroll("owner", "--replace"), self.secret)
{%- endif %}


class AuditTrailTests(AdminGuardTestCase):
    def test_sign_ins_lockouts_and_changes_are_events(self):
        with self.assertLogs(AUDIT_LOGGER, "INFO") as logs:
            for _ in range(base.AXES_FAILURE_LIMIT):
                self.sign_in("wrong", ATTACKER)
            client = self.client_class()
            self.sign_in(PASSWORD, OWNER, client=client)
            client.post(
                reverse("admin:auth_group_add"),
                {"name": "volunteers"},
                headers={"X-Real-IP": OWNER, "X-Railway-Request-Id": "req-add-1"},
            )
            client.post(reverse("admin:logout"), headers={"X-Real-IP": OWNER})
        events = [(r.event, getattr(r, "user", None), r.client_address) for r in logs.records]
        self.assertIn(("admin.login_failed", "owner", ATTACKER), events)
        self.assertIn(("admin.locked_out", "owner", ATTACKER), events)
        self.assertIn(("admin.login", "owner", OWNER), events)
        self.assertIn(("admin.add", "owner", OWNER), events)
        self.assertIn(("admin.logout", "owner", OWNER), events)
        (added,) = [r for r in logs.records if r.event == "admin.add"]
        self.assertEqual((added.object, added.request_id), ("volunteers", "req-add-1"))

    def test_changed_fields_are_named_and_values_never_logged(self):
        client = self.client_class()
        self.sign_in(PASSWORD, OWNER, client=client)
        secret_password = "a brand new secret 42"  # noqa: S105
        with self.assertLogs(AUDIT_LOGGER, "INFO") as logs:
            client.post(
                reverse("admin:auth_user_password_change", args=[self.user.pk]),
                {
                    "password1": secret_password,
                    "password2": secret_password,
                    "usable_password": "true",
                },
                headers={"X-Real-IP": OWNER},
            )
        (changed,) = [r for r in logs.records if r.event == "admin.change"]
        self.assertTrue(changed.fields)
        text = json.dumps([vars(r) for r in logs.records], default=str)
        self.assertNotIn(secret_password, text)


class RequestIdAndLogTests(TestCase):
    def test_edge_request_id_is_returned_and_a_bad_one_replaced(self):
        response = self.client.get("/health/live/", headers={"X-Railway-Request-Id": "abc-123"})
        self.assertEqual(response["X-Request-Id"], "abc-123")
        response = self.client.get("/health/live/", headers={"X-Railway-Request-Id": "a b\n"})
        self.assertRegex(response["X-Request-Id"], r"^[0-9a-f]{32}$")

    def test_json_line_has_message_and_railway_level(self):
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
        record.request_id = "r-1"
        line = RailwayJsonFormatter().format(record)
        self.assertNotIn("\n", line)
        parsed = json.loads(line)
        self.assertEqual(
            (parsed["message"], parsed["level"], parsed["request_id"]), ("hello you", "warn", "r-1")
        )


class HousekeepingTests(TestCase):
    def attempt(self, username):
        """Return a new sign-in attempt row for ``username``."""
        blank = dict.fromkeys(("user_agent", "http_accept", "get_data", "post_data"), "")
        return AccessAttempt.objects.create(
            username=username, ip_address=ATTACKER, path_info="/", failures_since_start=1, **blank
        )

    def test_expired_sessions_and_old_attempts_are_deleted(self):
        now = timezone.now()
        Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(1))
        Session.objects.create(session_key="new", session_data="", expire_date=now + timedelta(1))
        old = self.attempt("x")
        AccessAttempt.objects.filter(pk=old.pk).update(attempt_time=now - timedelta(hours=1))
        self.attempt("y")
        out = io.StringIO()
        call_command("housekeeping", stdout=out)
        self.assertEqual(list(Session.objects.values_list("session_key", flat=True)), ["new"])
        self.assertEqual(list(AccessAttempt.objects.values_list("username", flat=True)), ["y"])
        self.assertIn("sign-in attempts: 1", out.getvalue())
