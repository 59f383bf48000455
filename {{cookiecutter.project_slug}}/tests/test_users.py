"""The custom user model: its fields, the e-mail unique in any letter case, the admin pages, and
``createsuperuser --noinput`` from DJANGO_SUPERUSER_* variables (as on Railway)."""

import os
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import TestCase
from django.urls import reverse
{%- if cookiecutter.admin_two_factor %}
from django_otp import DEVICE_ID_SESSION_KEY
{%- endif %}

User = get_user_model()


class UserModelTests(TestCase):
    def test_the_site_uses_its_own_user_model(self):
        self.assertEqual(User._meta.label, "users.User")
        self.assertEqual(User._meta.db_table, "users_user")

    def test_display_name_is_the_short_name_with_the_username_as_fallback(self):
        user = User.objects.create_user("ann", "ann@example.org", "pw-ann-1234")
        self.assertEqual(user.get_short_name(), "ann")
        user.display_name = "Ann from the pantry"
        self.assertEqual(user.get_short_name(), "Ann from the pantry")

    def test_email_is_required(self):
        user = User(username="nomail")
        user.set_password("pw-nomail-1234")
        with self.assertRaises(ValidationError) as raised:
            user.full_clean()
        self.assertIn("email", raised.exception.message_dict)


class UniqueEmailTests(TestCase):
    def setUp(self):
        User.objects.create_user("ann", "Ann@Example.org", "pw-ann-1234")

    def test_same_email_in_another_case_is_refused_by_the_database(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            User.objects.create_user("bob", "ann@EXAMPLE.ORG", "pw-bob-1234")

    def test_same_email_in_another_case_is_refused_by_validation(self):
        user = User(username="bob", email="ANN@example.org", password="x")
        with self.assertRaises(ValidationError) as raised:
            user.full_clean()
        self.assertIn(
            "A user with that e-mail address already exists.", str(raised.exception.messages)
        )

    def test_another_email_is_fine(self):
        User.objects.create_user("bob", "bob@example.org", "pw-bob-1234")
        self.assertEqual(User.objects.count(), 2)


class AdminPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = User.objects.create_superuser("boss", "boss@example.org", "pw-boss-1234")
        cls.volunteer = User.objects.create_user(
            "vol", "volunteer@example.org", "pw-vol-1234", display_name="Vera Volunteer"
        )

    def setUp(self):
        self.client.force_login(self.admin)
{%- if cookiecutter.admin_two_factor %}
        # The admin admits only staff verified by a device: as after a right TOTP code.
        device = self.admin.totpdevice_set.create(name="phone", confirmed=True)
        session = self.client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
{%- endif %}

    def test_list_search_and_filters(self):
        url = reverse("admin:users_user_changelist")
        page = self.client.get(url)
        self.assertContains(page, "Vera Volunteer")
        self.assertContains(page, 'id="searchbar"')
        self.assertContains(page, "By staff status")
        found = self.client.get(url, {"q": "vera"})
        self.assertContains(found, "volunteer@example.org")
        self.assertNotContains(found, "boss@example.org")
        staff = self.client.get(url, {"is_staff__exact": "1"})
        self.assertContains(staff, "boss@example.org")
        self.assertNotContains(staff, "volunteer@example.org")

    def test_change_page_shows_the_display_name(self):
        page = self.client.get(reverse("admin:users_user_change", args=[self.volunteer.pk]))
        self.assertContains(page, 'name="display_name"')
        self.assertContains(page, 'value="Vera Volunteer"')

    def test_add_page_asks_for_the_email(self):
        page = self.client.get(reverse("admin:users_user_add"))
        self.assertContains(page, 'name="email"')

    def add(self, username, email):
        return self.client.post(
            reverse("admin:users_user_add"),
            {
                "username": username,
                "email": email,
                "usable_password": "true",
                "password1": "a-long-pass-phrase-42",
                "password2": "a-long-pass-phrase-42",
            },
        )

    def test_adding_a_user(self):
        response = self.add("newbie", "newbie@example.org")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(User.objects.filter(username="newbie", email="newbie@example.org").exists())

    def test_adding_a_user_with_a_taken_email_in_another_case_shows_an_error(self):
        response = self.add("copycat", "VOLUNTEER@example.org")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "A user with that e-mail address already exists.")
        self.assertFalse(User.objects.filter(username="copycat").exists())


class CreateSuperuserTests(TestCase):
    def test_noinput_reads_the_django_superuser_variables(self):
        variables = {
            "DJANGO_SUPERUSER_USERNAME": "railway-admin",
            "DJANGO_SUPERUSER_EMAIL": "admin@example.org",
            "DJANGO_SUPERUSER_PASSWORD": "a-long-pass-phrase-42",
        }
        with mock.patch.dict(os.environ, variables):
            call_command("createsuperuser", interactive=False, verbosity=0)
        user = User.objects.get(username="railway-admin")
        self.assertTrue(user.is_superuser and user.is_staff)
        self.assertEqual(user.email, "admin@example.org")
        self.assertTrue(user.check_password("a-long-pass-phrase-42"))

    def test_noinput_without_an_email_says_which_variable_is_missing(self):
        variables = {
            "DJANGO_SUPERUSER_USERNAME": "railway-admin",
            "DJANGO_SUPERUSER_PASSWORD": "a-long-pass-phrase-42",
        }
        with mock.patch.dict(os.environ, variables), self.assertRaises(CommandError) as raised:
            os.environ.pop("DJANGO_SUPERUSER_EMAIL", None)
            call_command("createsuperuser", interactive=False, verbosity=0)
        self.assertIn("email", str(raised.exception))
        self.assertFalse(User.objects.exists())
