"""An edge client for one visitor's address: what Railway's edge writes in X-Real-IP."""

from __future__ import annotations

from typing import Any

from tests.support.railway_emulator import Edge, Instance, Reply


class ClientEdge(Edge):
    """Requests from the client at ``address``, as the edge forwards them (a cookie jar each).

    ``forwarded_for`` adds the X-Forwarded-For a client may write itself; the edge passes it on,
    and the site must not believe it.
    """

    def __init__(self, domain: str, address: str):
        super().__init__(domain)
        self.address = address
        self.forwarded_for: str | None = None

    def request(self, instance: Instance, path: str, **kwargs: Any) -> Reply:
        headers = {"X-Real-IP": self.address, **(kwargs.pop("headers", None) or {})}
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        return super().request(instance, path, headers=headers, **kwargs)
