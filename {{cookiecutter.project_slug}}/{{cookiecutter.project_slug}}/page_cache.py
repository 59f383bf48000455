"""Serve pages that are the same for every visitor from memory, security headers included.

The landing page reads no database, no session and no CSRF token, and its headers (the CSP has
no nonce, HSTS, ...) are the same on every response. Rendering it and running it through the
middleware costs most of a request, so the first complete response is kept and sent again, with
all its headers, to later requests that could not get a different answer:

- a GET over HTTPS (plain HTTP still gets the SSL redirect) with no query string, for a host
  Django allows (others still get the 400), to a path in CACHED_PATHS;
- the kept response was a 200 that set no cookie, has no Vary header (it did not touch the
  session or the CSRF token, which add ``Vary: Cookie``) and is neither private nor no-store.

So a page that later shows something per visitor stops being kept by itself. Once a page is
kept, front.py answers it before Django is entered (the same bytes and headers). The copy lives in
each worker's memory until the worker restarts, and every deploy starts new workers, so a new
release never serves an old page. Off when DEBUG is on, so template edits show at once.
Measured by the cfmp-railway template's benchmark (docs/benchmarks.md in the template repository,
whose address .cruft.json records): this is what makes ``/`` cheap.
"""

from django.conf import settings
from django.core.exceptions import DisallowedHost, MiddlewareNotUsed
from django.http import HttpResponse

#: The landing page. Add a path here only for a page that is the same for everyone.
CACHED_PATHS = frozenset({"/"})
#: The kept pages of this process, (host, path) -> (status, headers, body). The WSGI front
#: (front.py) answers from them before Django is entered; the middleware fills them.
PAGES = {}


class PageCacheMiddleware:
    """Keep the first cacheable response per (host, path); first in MIDDLEWARE."""

    def __init__(self, get_response):
        if settings.DEBUG:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.pages = PAGES

    def __call__(self, request):
        key = self.key(request)
        if key is None:
            return self.get_response(request)
        kept = self.pages.get(key)
        if kept is not None:
            status, headers, content = kept
            return HttpResponse(content, status=status, headers=headers)
        response = self.get_response(request)
        if self.can_keep(response):
            self.pages[key] = (response.status_code, dict(response.items()), response.content)
        return response

    @staticmethod
    def key(request):
        """Return (host, path) when the request may be answered from memory, else None."""
        if (
            request.method != "GET"
            or request.path_info not in CACHED_PATHS
            or request.META.get("QUERY_STRING")
            or not request.is_secure()
        ):
            return None
        try:
            return request.get_host(), request.path_info
        except DisallowedHost:
            return None

    @staticmethod
    def can_keep(response):
        """Return True when ``response`` may be sent again to every later visitor."""
        cache_control = response.get("Cache-Control", "").lower()
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not response.has_header("Vary")
            and "private" not in cache_control
            and "no-store" not in cache_control
        )
