"""Serve collected static files in front of Django, with the headers Django's middleware adds.

In MIDDLEWARE, WhiteNoise answers a static file after the page cache, SecurityMiddleware and
the cross-origin headers have run; building a request object and running that chain costs more
than sending the file. ``StaticFront`` wraps the WSGI application (wsgi.py) and serves the same
files with WhiteNoise's own WSGI side, before Django is entered, once it knows the headers:

- the first HTTPS answer for a static file goes through Django as before; the headers it has
  beyond those WhiteNoise itself sets (HSTS, nosniff, Referrer-Policy, COOP, CORP, COEP ...) are
  kept, and every later HTTPS GET or HEAD for a static file gets WhiteNoise's answer with them;
- plain HTTP (the SSL redirect), other methods, and paths that are not collected files always go
  through Django, as does everything while DEBUG is on.

So a security header added to the middleware reaches static files by itself, the next time the
site starts. The files are those WhiteNoiseMiddleware serves (same settings, same cache rules).
"""

from django.conf import settings
from whitenoise.base import WhiteNoise
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.string_utils import decode_path_info

SERVED_METHODS = frozenset({"GET", "HEAD"})


def is_secure(environ):
    """Return True when Django would see the request as HTTPS (SECURE_PROXY_SSL_HEADER)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


class StaticFront:
    """A WSGI application: static files from WhiteNoise, everything else from ``application``."""

    def __init__(self, application):
        self.application = application
        self.files = {} if settings.DEBUG else WhiteNoiseMiddleware(get_response=None).files
        self.headers = None  # learnt from Django's first 200 for a static file

    def __call__(self, environ, start_response):
        static_file = None
        if environ.get("REQUEST_METHOD") in SERVED_METHODS and is_secure(environ):
            static_file = self.files.get(decode_path_info(environ.get("PATH_INFO", "")))
        if static_file is None:
            return self.application(environ, start_response)
        if self.headers is None:
            return self.application(environ, self.learning(static_file, environ, start_response))
        return WhiteNoise.serve(static_file, environ, self.adding_headers(start_response))

    def learning(self, static_file, environ, start_response):
        """Return a start_response that keeps the headers Django added to a static file."""

        def start(status, headers, exc_info=None):
            if status.startswith("200 ") and exc_info is None:
                own = static_file.get_response("HEAD", environ).headers  # opens no file
                own_names = {name.lower() for name, _ in own}
                self.headers = [(k, v) for k, v in headers if k.lower() not in own_names]
            return start_response(status, headers, exc_info)

        return start

    def adding_headers(self, start_response):
        """Return a start_response that adds the kept headers to WhiteNoise's answer."""
        extra = self.headers

        def start(status, headers, exc_info=None):
            return start_response(status, headers + extra, exc_info)

        return start
