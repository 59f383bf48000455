"""Answers that need nothing from Django, given before Django is entered: the WSGI front.

Django's handler costs more than these answers: a request object, the request signals, the
middleware and a response object, for bytes and headers that are already known. ``Front`` wraps
the WSGI application (wsgi.py) and gives three kinds of answer itself, each with exactly the
status, headers and body Django gave it; everything else goes through Django as before:

- **static files**: the first HTTPS answer for a collected file goes through Django; the headers
  it has beyond those WhiteNoise itself sets (HSTS, nosniff, Referrer-Policy, COOP, CORP, COEP,
  whatever the middleware adds) are kept, and later HTTPS GETs and HEADs of collected files get
  WhiteNoise's own WSGI answer with them (the same files, settings and cache rules as
  WhiteNoise's middleware, whose table of collected files the front shares:
  ``StaticFilesMiddleware``);
- **the landing page** once page_cache.py has kept it: an HTTPS GET without a query string whose
  Host is one Django already accepted for that page;
- **``/health/``** while ReadinessAnswerMiddleware's kept answer is fresh (health.py), for the same
  host and scheme, Expires dated now.

Plain HTTP to a page or file (the SSL redirect), unknown hosts (the 400), other methods and
anything not yet kept go through Django, as does everything while DEBUG is on. What is skipped
for these answers is only Django's per-request work (the request signals too: a thread that
only gives such answers closes an expired database connection at its next Django request); the
access log is gunicorn's and stays.
"""

from http import HTTPStatus

from django.conf import settings
from whitenoise.base import WhiteNoise
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.string_utils import decode_path_info

from . import health, page_cache
from .request_id import incoming_request_id

SERVED_METHODS = frozenset({"GET", "HEAD"})
#: The response header with the request's id; a kept answer's own id is never sent again.
REQUEST_ID = "X-Request-Id"
REQUEST_ID_LOWER = REQUEST_ID.lower()  # what header names are compared with, once lowered


def is_secure(environ):
    """Return True when Django would see the request as HTTPS (SECURE_PROXY_SSL_HEADER)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def raw_host(environ):
    """Return the host Django's request.get_host() starts from, or None without a Host header.

    A kept answer's key holds the host as get_host() returned it, which is this text once Django
    has validated it: an exact match is a host Django accepted.
    """
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        return environ["HTTP_X_FORWARDED_HOST"]
    return environ.get("HTTP_HOST")


def status_line(status):
    """Return the WSGI status line of a status code ("200 OK")."""
    return f"{status} {HTTPStatus(status).phrase}"


def request_id_header(environ):
    """Return the (name, value) header that gives this request's id."""
    return (REQUEST_ID, incoming_request_id(environ))


def with_request_id(headers, environ):
    """Return the headers as a list, with this request's X-Request-Id instead of a kept one."""
    kept = [(name, value) for name, value in headers if name.lower() != REQUEST_ID_LOWER]
    return [*kept, request_id_header(environ)]


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise's middleware, which lends its table of collected files to ``Front``.

    Building the table reads the whole static folder (every file, its hashed and compressed
    copies): once at start-up is enough, for the middleware and the front alike.
    """

    #: The table of the instance Django built last (wsgi.py builds Django's before the front).
    shared_files = None

    def __init__(self, get_response=None, settings=settings):
        super().__init__(get_response, settings)
        StaticFilesMiddleware.shared_files = self.files


def collected_files():
    """Return the table of collected files: the middleware's, or a new one without it."""
    if StaticFilesMiddleware.shared_files is not None:
        return StaticFilesMiddleware.shared_files
    return WhiteNoiseMiddleware(get_response=None).files


class Front:
    """A WSGI application: kept answers and static files itself, the rest from ``application``."""

    def __init__(self, application):
        self.application = application
        self.debug = settings.DEBUG
        self.files = {} if self.debug else collected_files()
        # Learnt from Django's first 200 for a static file, without its X-Request-Id (each
        # answer gets its own request's id).
        self.static_headers = None

    def __call__(self, environ, start_response):
        if self.debug:
            return self.application(environ, start_response)
        method = environ.get("REQUEST_METHOD")
        secure = is_secure(environ)
        path = environ.get("PATH_INFO", "")
        if method == "GET" and not environ.get("QUERY_STRING"):
            kept = self.kept_answer(environ, path, secure)
            if kept is not None:
                status, headers, body = kept
                start_response(status_line(status), with_request_id(headers.items(), environ))
                return [body]
        static_file = None
        if method in SERVED_METHODS and secure:
            static_file = self.files.get(decode_path_info(path))
        if static_file is None:
            return self.application(environ, start_response)
        if self.static_headers is None:
            return self.application(environ, self.learning(static_file, environ, start_response))
        return WhiteNoise.serve(static_file, environ, self.adding_headers(start_response, environ))

    @staticmethod
    def kept_answer(environ, path, secure):
        """Return the kept (status, headers, body) for this GET, or None."""
        host = raw_host(environ)
        if host is None:
            return None
        if path == health.READINESS_PATH:
            return health.fresh_answer((host, "https" if secure else "http"))
        if secure and path in page_cache.CACHED_PATHS:
            return page_cache.PAGES.get((host, path))
        return None

    def learning(self, static_file, environ, start_response):
        """Return a start_response that keeps the headers Django added to a static file."""

        def start(status, headers, exc_info=None):
            if status.startswith("200 ") and exc_info is None:
                own = static_file.get_response("HEAD", environ).headers  # opens no file
                own_names = {name.lower() for name, _ in own} | {REQUEST_ID_LOWER}
                self.static_headers = [(k, v) for k, v in headers if k.lower() not in own_names]
            return start_response(status, headers, exc_info)

        return start

    def adding_headers(self, start_response, environ):
        """Return a start_response that adds the kept headers and this request's id to
        WhiteNoise's answer."""
        kept = self.static_headers
        request_id = request_id_header(environ)

        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, *kept, request_id], exc_info)

        return start
