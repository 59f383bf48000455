"""The pages people see, and the headers they are served with in production."""

import unittest

from django.conf import settings
from django.test import RequestFactory, TestCase

from {{ cookiecutter.project_slug }}.views import server_error

from .helpers import HEALTHCHECK_HOST, PUBLIC_DOMAIN, edge_headers, fetch, production_env


class PageTests(TestCase):
    def test_home_page(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "<title>")
        self.assertContains(response, '<meta name="viewport"')
        self.assertContains(response, '<html lang="en">')
        self.assertNotContains(response, "<script")
        self.assertNotContains(response, "style=")

    def test_not_found_page(self):
        response = self.client.get("/no-such-page/")
        self.assertEqual(response.status_code, 404)
        self.assertContains(response, "Page not found", status_code=404)

    def test_server_error_page_shows_no_details(self):
        response = server_error(RequestFactory().get("/"))
        self.assertEqual(response.status_code, 500)
        self.assertIn(b"Something went wrong", response.content)
        self.assertNotIn(b"Traceback", response.content)

    def test_admin_login_page(self):
        response = self.client.get(f"/{settings.ADMIN_URL}login/")
        self.assertEqual(response.status_code, 200)


class ProductionHeadersTests(unittest.TestCase):
    """Headers on / as Railway's edge would deliver them (the database is not needed for /)."""

    @classmethod
    def setUpClass(cls):
        cls.home, cls.plain, cls.probe = fetch(
            [
                ("/", edge_headers()),
                ("/", {"host": PUBLIC_DOMAIN}),
                ("/health/live/", {"host": HEALTHCHECK_HOST}),
            ],
            production_env(),
        )

    def test_home_page_is_served_over_https(self):
        self.assertEqual(self.home["status"], 200)

    def test_plain_http_is_redirected_to_https(self):
        self.assertEqual(self.plain["status"], 301)
        self.assertEqual(self.plain["headers"]["Location"], f"https://{PUBLIC_DOMAIN}/")

    def test_health_paths_answer_plain_http(self):
        self.assertEqual(self.probe["status"], 200)

    def test_security_headers(self):
        headers = self.home["headers"]
        self.assertEqual(
            headers["Strict-Transport-Security"], "max-age=31536000; includeSubDomains; preload"
        )
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(headers["X-Frame-Options"], "DENY")
        self.assertEqual(headers["Referrer-Policy"], "same-origin")
        self.assertEqual(headers["Cross-Origin-Opener-Policy"], "same-origin")
        self.assertEqual(headers["Cross-Origin-Resource-Policy"], "same-origin")
        self.assertEqual(headers["Cross-Origin-Embedder-Policy"], "require-corp")

    def test_content_security_policy(self):
        policy = {
            directive.split()[0]: directive.split()[1:]
            for directive in self.home["headers"]["Content-Security-Policy"].split(";")
            if directive.strip()
        }
        self.assertEqual(policy["default-src"], ["'none'"])
        self.assertEqual(policy["frame-ancestors"], ["'none'"])
        self.assertIn("base-uri", policy)
        self.assertIn("form-action", policy)
        for sources in policy.values():
            self.assertNotIn("'unsafe-inline'", sources)
            self.assertNotIn("'unsafe-eval'", sources)
