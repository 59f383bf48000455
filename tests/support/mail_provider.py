"""A stand-in for an e-mail service's HTTPS API, on loopback, speaking its documented requests.

The generated site's e-mail API choice sends through django-anymail; the tests point its API URL
(``EMAIL_API_URL``) here. Two providers' sending endpoints are understood, as their API
references document them:

- Resend: ``POST /emails``, ``Authorization: Bearer <key>``, a JSON body with ``from``, ``to``
  (a list), ``subject``, ``text``, ``html``...; answers 200 ``{"id": "<uuid>"}``.
- Postmark: ``POST /email``, ``X-Postmark-Server-Token: <token>``, a JSON body with ``From``,
  ``To`` (comma-separated), ``Subject``, ``TextBody``, ``HtmlBody``...; answers 200 with
  ``{"To", "SubmittedAt", "MessageID", "ErrorCode": 0, "Message": "OK"}``.

``mode`` chooses the answer: ``"ok"``, ``"error"`` (500, as a provider's outage), ``"silent"``
(reads the request and never answers until the server closes) or ``"slow"`` (answers ok after
``delay`` seconds). Every request that reaches an endpoint is recorded, with the time it
arrived, before the answer.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ENDPOINTS = {"/emails": "resend", "/email": "postmark"}


@dataclass
class Received:
    """One request to a sending endpoint."""

    provider: str
    headers: dict[str, str]
    body: dict[str, Any]
    arrived: float  # time.monotonic()

    @property
    def recipients(self) -> list[str]:
        """Return the To addresses, whichever provider's format the request used."""
        if self.provider == "resend":
            to = self.body.get("to", [])
            return [to] if isinstance(to, str) else list(to)
        return [part.strip() for part in str(self.body.get("To", "")).split(",") if part.strip()]


@dataclass
class MailProvider:
    """The stand-in server; ``with MailProvider() as provider:`` runs it on a free port."""

    mode: str = "ok"
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> MailProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def reset(self, mode: str = "ok", delay: float = 0.0) -> None:
        """Forget what was received and answer in ``mode`` from now on."""
        with self._lock:
            self.mode, self.delay = mode, delay
            self.received.clear()

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Return the received requests once there are ``count``; fail after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the stand-in provider got {len(self.received)} of {count} request(s)"
                        f" within {timeout} s"
                    )
                self._lock.wait(left)
            return list(self.received)

    def _record(self, item: Received) -> str:
        with self._lock:
            self.received.append(item)
            self._lock.notify_all()
            return self.mode

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                # A client that gave up (its timeout, a killed worker) is not an error here.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                name = ENDPOINTS.get(self.path.split("?", 1)[0])
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if name is None:
                    self.answer(404, {"message": "not found"})
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    self.answer(422, {"message": "body is not JSON"})
                    return
                headers = {key.lower(): value for key, value in self.headers.items()}
                mode = provider._record(Received(name, headers, body, time.monotonic()))
                if mode == "silent":
                    provider._closing.wait(120)
                    return
                if mode == "error":
                    self.answer(500, {"message": "internal server error", "statusCode": 500})
                    return
                if mode == "slow":
                    time.sleep(provider.delay)
                message_id = str(uuid.uuid4())
                if name == "resend":
                    self.answer(200, {"id": message_id})
                else:
                    self.answer(
                        200,
                        {
                            "To": body.get("To", ""),
                            "SubmittedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                            "MessageID": message_id,
                            "ErrorCode": 0,
                            "Message": "OK",
                        },
                    )

        return Handler
