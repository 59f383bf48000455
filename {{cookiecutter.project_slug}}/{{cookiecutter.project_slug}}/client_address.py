"""The address of the client a request came from, as Railway's edge reports it.

Railway's edge ends TLS and opens its own connection to the container, so ``REMOTE_ADDR`` is
the edge's address, the same for every visitor. The edge writes the client's address into
``X-Real-IP`` (Railway docs: networking/public-networking/specs-and-limits) and replaces any
value a client sent. ``X-Forwarded-For`` is not used: a client can write its own, a new one per
request. This assumes every request reaches the container through the edge (the container has
no other public port on Railway); settings.CLIENT_ADDRESS_HEADER names the header, or None to
use ``REMOTE_ADDR`` (local development, where no edge sits in front).
"""

from django.conf import settings


def client_address(request):
    """Return the client's address: the edge's header when present, else REMOTE_ADDR."""
    header = getattr(settings, "CLIENT_ADDRESS_HEADER", None)
    if header:
        value = request.META.get(header, "").strip()
        if value:
            return value
    return request.META.get("REMOTE_ADDR") or None
