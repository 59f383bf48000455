"""The pages people see, and the headers they are served with in production."""

import unittest

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse
from django.test import RequestFactory, SimpleTestCase, TestCase, override_settings

from {{ cookiecutter.project_slug }}.page_cache import PAGES, PageCacheMiddleware
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


class PageCacheTests(SimpleTestCase):
    """page_cache.py: which answers are kept in memory, and which always go through the stack.

    ``render`` stands in for the middleware and views below the page cache and counts calls.
    """

    def setUp(self):
        self.calls = 0
        self.factory = RequestFactory()
        PAGES.clear()  # the process's kept pages: each case starts without any
        self.addCleanup(PAGES.clear)

    def render(self, request, **changes):
        self.calls += 1
        response = HttpResponse("<p>page</p>")
        response["Content-Security-Policy"] = "default-src 'none'"
        for name, value in changes.items():
            response[name] = value
        return response

    def cache(self, **changes):
        return PageCacheMiddleware(lambda request: self.render(request, **changes))

    def test_second_request_is_answered_from_memory_with_the_same_headers(self):
        cache = self.cache()
        first = cache(self.factory.get("/", secure=True))
        second = cache(self.factory.get("/", secure=True))
        self.assertEqual(self.calls, 1)
        self.assertEqual(second.status_code, 200)
        self.assertEqual(second.content, first.content)
        self.assertEqual(dict(second.items()), dict(first.items()))
        self.assertEqual(second["Content-Security-Policy"], "default-src 'none'")

    def test_requests_that_could_get_another_answer_go_through(self):
        cache = self.cache()
        cache(self.factory.get("/", secure=True))
        self.calls = 0
        for request in (
            self.factory.get("/"),  # plain HTTP: the SSL redirect must still apply
            self.factory.get("/", {"q": "1"}, secure=True),
            self.factory.get("/", secure=True, headers={"host": "unknown.example.com"}),
            self.factory.head("/", secure=True),
            self.factory.post("/", secure=True),
            self.factory.get("/other/", secure=True),
        ):
            cache(request)
        self.assertEqual(self.calls, 6)

    def test_personal_or_uncacheable_responses_are_not_kept(self):
        for changes in (
            {"Vary": "Cookie"},
            {"Cache-Control": "private"},
            {"Cache-Control": "no-cache, no-store"},
        ):
            with self.subTest(changes=changes):
                self.calls = 0
                cache = self.cache(**changes)
                cache(self.factory.get("/", secure=True))
                cache(self.factory.get("/", secure=True))
                self.assertEqual(self.calls, 2)

    def test_responses_setting_a_cookie_are_not_kept(self):
        def render_with_cookie(request):
            response = self.render(request)
            response.set_cookie("visitor", "1")
            return response

        cache = PageCacheMiddleware(render_with_cookie)
        cache(self.factory.get("/", secure=True))
        cache(self.factory.get("/", secure=True))
        self.assertEqual(self.calls, 2)

    def test_error_responses_are_not_kept(self):
        def render_error(request):
            self.calls += 1
            return HttpResponse("down", status=503)

        cache = PageCacheMiddleware(render_error)
        cache(self.factory.get("/", secure=True))
        cache(self.factory.get("/", secure=True))
        self.assertEqual(self.calls, 2)

    @override_settings(DEBUG=True)
    def test_off_while_debugging(self):
        with self.assertRaises(MiddlewareNotUsed):
            PageCacheMiddleware(self.render)


class LandingPageFromMemoryTests(unittest.TestCase):
    """In production, the landing page answered from memory keeps its body and every header."""

    @classmethod
    def setUpClass(cls):
        cls.first, cls.second, cls.plain = fetch(
            [("/", edge_headers()), ("/", edge_headers()), ("/", {"host": PUBLIC_DOMAIN})],
            production_env(),
        )

    def test_same_page_and_headers_again(self):
        self.assertEqual(self.second["status"], 200)
        self.assertEqual(self.second["body"], self.first["body"])
        for name in (
            "Content-Type",
            "Content-Security-Policy",
            "Strict-Transport-Security",
            "X-Content-Type-Options",
            "X-Frame-Options",
            "Referrer-Policy",
            "Cross-Origin-Opener-Policy",
        ):
            with self.subTest(header=name):
                self.assertIn(name, self.second["headers"])
                self.assertEqual(self.second["headers"][name], self.first["headers"][name])

    def test_plain_http_is_still_redirected_after_the_page_was_kept(self):
        self.assertEqual(self.plain["status"], 301)
