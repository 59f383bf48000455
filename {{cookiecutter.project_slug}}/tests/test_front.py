"""front.py: answers given before Django is entered keep every byte and header Django gave them.

The requests run through the WSGI application of wsgi.py (what gunicorn runs, Front included)
in a production process, which notes for each request whether Django's handler was entered.
"""

import json
import unittest

from .helpers import (
    HEALTHCHECK_HOST,
    PUBLIC_DOMAIN,
    build_static_files,
    production_env,
    run_python,
    shared_database_url,
)

# Calls wsgi.application with a WSGI environ per request; prints the path asked for, status,
# headers, body and whether the request reached Django (the application Front wraps) for each,
# and how many times start-up read the static folder (WhiteNoise.add_files).
WSGI_SCRIPT = """
import io, json, sys
from wsgiref.util import setup_testing_defaults
from whitenoise.base import WhiteNoise

folder_reads, add_files = [], WhiteNoise.add_files
WhiteNoise.add_files = lambda self, *args, **kwargs: (
    folder_reads.append(args) or add_files(self, *args, **kwargs)
)
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
        answer.update(
            status=int(status.split()[0]),
            headers=dict(headers),
            names=[name.lower() for name, _ in headers],
        )
    before = len(calls)
    chunks = application(environ, start_response)
    body = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    answer.update(path=path, body=body.decode("latin-1"), through_django=len(calls) > before)
    results.append(answer)
print(json.dumps({"answers": results, "folder_reads": len(folder_reads)}))
"""

STYLESHEET = "static:css/site.css"
EDGE_REQUEST_ID = "b7Qp2Lx9Vt4Nz8Kd3Rm6Ws"  # the shape of Railway's X-Railway-Request-Id
EDGE = {"host": PUBLIC_DOMAIN, "x-forwarded-proto": "https", "accept-encoding": "br, gzip"}
SECURITY_HEADERS = (
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "Cross-Origin-Embedder-Policy",
)


def wsgi_run(requests, env=None):
    """Make ``requests`` ([(method, path, headers), ...]) through wsgi.application.

    Return {"answers": one dict per request, "folder_reads": times the static folder was read}.
    """
    build_static_files()
    result = run_python(["-c", WSGI_SCRIPT, json.dumps(requests)], env or production_env())
    if result.returncode != 0:
        raise AssertionError(f"the production process failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def wsgi_requests(requests, env=None):
    """Return the answers to ``requests`` made through wsgi.application (see wsgi_run)."""
    return wsgi_run(requests, env)["answers"]


def without_request_id(answer):
    """Return an answer's headers but X-Request-Id, which each answer gets afresh."""
    return {k: v for k, v in answer["headers"].items() if k != "X-Request-Id"}


class StaticFileTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        run = wsgi_run(
            [
                ("GET", STYLESHEET, EDGE),
                ("GET", STYLESHEET, EDGE),
                ("HEAD", STYLESHEET, EDGE),
                ("GET", STYLESHEET, {"host": PUBLIC_DOMAIN}),
                ("POST", STYLESHEET, EDGE),
                ("GET", "/", EDGE),
                ("GET", "/static/css/site.css", EDGE),
                ("GET", STYLESHEET, {**EDGE, "x-railway-request-id": EDGE_REQUEST_ID}),
            ]
        )
        (
            cls.first,
            cls.second,
            cls.head,
            cls.plain,
            cls.post,
            cls.page,
            cls.unhashed,
            cls.with_edge_id,
        ) = run["answers"]
        cls.folder_reads = run["folder_reads"]

    def test_start_up_reads_the_static_folder_once(self):
        # WhiteNoise's middleware and the front share one table of the collected files.
        self.assertEqual(self.folder_reads, 1)

    def test_only_hashed_names_are_served(self):
        # WHITENOISE_KEEP_ONLY_HASHED_FILES: the build keeps no unhashed copy to serve.
        self.assertRegex(self.first["path"], r"^/static/css/site\.[0-9a-f]{12}\.css$")
        self.assertEqual(self.unhashed["status"], 404)
        self.assertTrue(self.unhashed["through_django"])

    def test_first_answer_comes_from_django_the_next_from_the_front(self):
        self.assertEqual(self.first["status"], 200)
        self.assertTrue(self.first["through_django"])
        self.assertEqual(self.second["status"], 200)
        self.assertFalse(self.second["through_django"])
        self.assertFalse(self.head["through_django"])

    def test_each_header_is_given_once(self):
        answers = {
            "the first GET (Django)": self.first,
            "the second GET (the front)": self.second,
            "HEAD (the front)": self.head,
            "a GET with the edge's id (the front)": self.with_edge_id,
        }
        for label, answer in answers.items():
            with self.subTest(answer=label):
                self.assertEqual(len(answer["names"]), len(set(answer["names"])), answer["names"])

    def test_the_edges_request_id_is_the_answers(self):
        self.assertFalse(self.with_edge_id["through_django"])
        self.assertEqual(self.with_edge_id["headers"]["X-Request-Id"], EDGE_REQUEST_ID)

    def test_the_front_gives_the_same_body_and_every_header(self):
        self.assertEqual(self.second["body"], self.first["body"])
        self.assertEqual(without_request_id(self.second), without_request_id(self.first))
        self.assertNotEqual(
            self.second["headers"]["X-Request-Id"], self.first["headers"]["X-Request-Id"]
        )
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


class KeptAnswerTests(unittest.TestCase):
    """The landing page and /health/, once Django has given them, come from the front."""

    # The production process shares the test database: the runner must create it even when
    # only this module runs (it creates the databases its tests name).
    databases = {"default"}

    @classmethod
    def setUpClass(cls):
        env = production_env(DATABASE_URL=shared_database_url())
        probe = {"host": HEALTHCHECK_HOST}
        stranger = {**EDGE, "host": "elsewhere.example.com"}
        (
            cls.page,
            cls.page_again,
            cls.page_plain,
            cls.page_query,
            cls.page_stranger,
            cls.health,
            cls.health_again,
            cls.health_edge,
            cls.health_stranger,
        ) = wsgi_requests(
            [
                ("GET", "/", EDGE),
                ("GET", "/", EDGE),
                ("GET", "/", {"host": PUBLIC_DOMAIN}),
                ("GET", "/?q=1", EDGE),
                ("GET", "/", stranger),
                ("GET", "/health/", probe),
                ("GET", "/health/", probe),
                ("GET", "/health/", {**probe, "x-forwarded-proto": "https"}),
                ("GET", "/health/", {"host": "elsewhere.example.com"}),
            ],
            env,
        )

    def test_the_landing_page_comes_from_the_front_with_every_header(self):
        self.assertTrue(self.page["through_django"])
        self.assertFalse(self.page_again["through_django"])
        self.assertEqual(self.page_again["status"], 200)
        self.assertEqual(self.page_again["body"], self.page["body"])
        self.assertEqual(without_request_id(self.page_again), without_request_id(self.page))
        self.assertNotEqual(
            self.page_again["headers"]["X-Request-Id"], self.page["headers"]["X-Request-Id"]
        )
        self.assertIn("Content-Security-Policy", self.page_again["headers"])
        self.assertIn("X-Frame-Options", self.page_again["headers"])

    def test_plain_http_queries_and_unknown_hosts_still_go_through_django(self):
        self.assertEqual(self.page_plain["status"], 301)
        self.assertTrue(self.page_plain["through_django"])
        self.assertTrue(self.page_query["through_django"])
        self.assertEqual(self.page_stranger["status"], 400)
        self.assertTrue(self.page_stranger["through_django"])
        self.assertEqual(self.health_stranger["status"], 400)

    def test_a_fresh_health_answer_comes_from_the_front_for_the_same_scheme(self):
        self.assertEqual(self.health["status"], 200, self.health["body"])
        self.assertTrue(self.health["through_django"])
        self.assertFalse(self.health_again["through_django"])
        self.assertEqual(self.health_again["body"], self.health["body"])
        for name, value in without_request_id(self.health).items():
            if name != "Expires":
                with self.subTest(header=name):
                    self.assertEqual(self.health_again["headers"][name], value)
        self.assertIn("Expires", self.health_again["headers"])
        self.assertNotEqual(
            self.health_again["headers"]["X-Request-Id"], self.health["headers"]["X-Request-Id"]
        )
        self.assertTrue(self.health_edge["through_django"])  # HTTPS: another answer (HSTS)
        self.assertIn("Strict-Transport-Security", self.health_edge["headers"])
