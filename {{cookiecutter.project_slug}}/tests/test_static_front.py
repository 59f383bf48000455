"""static_front.py: static files answered in front of Django keep every header Django gives them.

Each case runs the WSGI application of wsgi.py (what gunicorn runs, StaticFront included) in a
production process and notes, for each request, whether Django's handler was entered.
"""

import json
import unittest

from .helpers import PUBLIC_DOMAIN, build_static_files, production_env, run_python

# Calls wsgi.application with a WSGI environ per request; prints status, headers, body and
# whether the request reached Django (the application StaticFront wraps).
WSGI_SCRIPT = """
import io, json, sys
from wsgiref.util import setup_testing_defaults
from {{ cookiecutter.project_slug }}.wsgi import application
from django.templatetags.static import static

django_app, calls = application.application, []
application.application = lambda environ, start: calls.append(1) or django_app(environ, start)
results = []
for method, path, headers in json.loads(sys.argv[1]):
    path = static(path[len("static:"):]) if path.startswith("static:") else path
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO()}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    setup_testing_defaults(environ)
    answer = {}
    def start_response(status, headers, exc_info=None):
        answer.update(status=int(status.split()[0]), headers=dict(headers))
    before = len(calls)
    chunks = application(environ, start_response)
    body = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    answer.update(body=body.decode("latin-1"), through_django=len(calls) > before)
    results.append(answer)
print(json.dumps(results))
"""

STYLESHEET = "static:css/site.css"
EDGE = {"host": PUBLIC_DOMAIN, "x-forwarded-proto": "https", "accept-encoding": "br, gzip"}
SECURITY_HEADERS = (
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "Cross-Origin-Embedder-Policy",
)


def wsgi_requests(requests):
    """Make ``requests`` ([(method, path, headers), ...]) through wsgi.application."""
    build_static_files()
    result = run_python(["-c", WSGI_SCRIPT, json.dumps(requests)], production_env())
    if result.returncode != 0:
        raise AssertionError(f"the production process failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class StaticFrontTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.first, cls.second, cls.head, cls.plain, cls.post, cls.page = wsgi_requests(
            [
                ("GET", STYLESHEET, EDGE),
                ("GET", STYLESHEET, EDGE),
                ("HEAD", STYLESHEET, EDGE),
                ("GET", STYLESHEET, {"host": PUBLIC_DOMAIN}),
                ("POST", STYLESHEET, EDGE),
                ("GET", "/", EDGE),
            ]
        )

    def test_first_answer_comes_from_django_the_next_from_the_front(self):
        self.assertEqual(self.first["status"], 200)
        self.assertTrue(self.first["through_django"])
        self.assertEqual(self.second["status"], 200)
        self.assertFalse(self.second["through_django"])
        self.assertFalse(self.head["through_django"])

    def test_the_front_gives_the_same_body_and_every_header(self):
        self.assertEqual(self.second["body"], self.first["body"])
        self.assertEqual(self.second["headers"], self.first["headers"])
        self.assertEqual(self.second["headers"].get("Content-Encoding"), "br")
        for name in SECURITY_HEADERS:
            with self.subTest(header=name):
                self.assertIn(name, self.second["headers"])
        self.assertIn("immutable", self.second["headers"]["Cache-Control"])

    def test_head_gets_the_headers_without_the_body(self):
        self.assertEqual(self.head["status"], 200)
        self.assertEqual(self.head["body"], "")
        for name in SECURITY_HEADERS:
            with self.subTest(header=name):
                self.assertEqual(self.head["headers"][name], self.first["headers"][name])

    def test_plain_http_other_methods_and_pages_still_go_through_django(self):
        self.assertEqual(self.plain["status"], 301)
        self.assertTrue(self.plain["through_django"])
        self.assertEqual(self.post["status"], 405)
        self.assertTrue(self.post["through_django"])
        self.assertEqual(self.page["status"], 200)
        self.assertTrue(self.page["through_django"])
