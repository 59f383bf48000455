"""A request id on every log line of a request and on its response (``X-Request-Id``).

Railway's edge sends ``X-Railway-Request-Id`` (the id its network logs show, Railway docs:
networking/public-networking/specs-and-limits); when it is missing (local development, the
healthcheck probe) a new one is made. The id and the client's address live in context variables
for the length of the request, and ``RequestContextFilter`` copies them onto each log record.
"""

import contextvars
import logging
import re
import secrets

from .client_address import client_address

REQUEST_ID_HEADER = "HTTP_X_RAILWAY_REQUEST_ID"
#: What an id from the edge may look like; anything else is replaced (it is written to logs).
VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

request_id = contextvars.ContextVar("request_id", default=None)
request_address = contextvars.ContextVar("request_address", default=None)


def incoming_request_id(meta):
    """Return the edge's request id from a request's META (or a WSGI environ) when it is
    well-formed, else a new random one."""
    sent = meta.get(REQUEST_ID_HEADER, "")
    return sent if VALID_ID.match(sent) else secrets.token_hex(16)


class RequestIdMiddleware:
    """Set the request id and client address for the request; first in MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = incoming_request_id(request.META)
        id_token = request_id.set(request.request_id)
        address_token = request_address.set(client_address(request))
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(id_token)
            request_address.reset(address_token)
        response["X-Request-Id"] = request.request_id
        return response


class RequestContextFilter(logging.Filter):
    """Add ``request_id`` and ``client_address`` to every record logged during a request."""

    def filter(self, record):
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        if getattr(record, "client_address", None) is None:
            record.client_address = request_address.get()
        return True
