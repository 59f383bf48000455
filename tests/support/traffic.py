"""A steady stream of mixed requests to a site's public side, recorded request by request.

``Traffic`` runs, until stopped, a few browser-like clients that each keep one keep-alive
connection and go round the landing page, an admin page with a logged-in session and a static
file, and one slow client that logs in to the admin with its request body sent over about two
seconds (a slow upload: the request occupies a worker thread all that time). Every request is
recorded as an ``Outcome``: its kind, HTTP status (0 when no answer came) and the error if any.
A request counts as failed when no answer came, the answer is a 5xx, or the answer is not what
that kind of request must get (a lost session shows as the admin's redirect to its login).
"""

from __future__ import annotations

import contextlib
import http.client
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')
#: Seconds between two requests of one client: steady load that leaves the builds some CPU.
PAUSE = 0.05
#: Seconds over which the slow client sends its login body.
SLOW_SECONDS = 2.0
SLOW_CHUNKS = 8


@dataclass(frozen=True)
class Outcome:
    kind: str
    status: int
    seconds: float
    error: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error) or self.status == 0 or self.status >= 500


@dataclass
class Summary:
    """What a stream of requests got, in figures."""

    outcomes: list[Outcome] = field(repr=False)

    @property
    def sent(self) -> int:
        return len(self.outcomes)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]

    @property
    def server_errors(self) -> int:
        return sum(1 for o in self.outcomes if o.status >= 500)

    def of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind]

    @property
    def slowest(self) -> float:
        return max((o.seconds for o in self.outcomes if not o.failed), default=0.0)

    def describe(self) -> str:
        """Return one line of figures, and the first few failures."""
        kinds = Counter(o.kind for o in self.outcomes)
        slow = self.of("slow")
        line = (
            f"{self.sent} requests ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}), "
            f"{len(self.failed)} failed, {self.server_errors} 5xx; slow requests "
            f"{sum(1 for o in slow if not o.failed)}/{len(slow)} completed; slowest answered "
            f"{self.slowest:.2f} s"
        )
        errors = Counter(f"{o.kind}: {o.error or o.status}" for o in self.failed)
        return line + "".join(f"\n  {n} x {what}" for what, n in errors.most_common(8))


class Traffic:
    """Clients of the public side on ``port`` (Host: ``domain``), started and stopped together."""

    def __init__(
        self,
        port: int,
        domain: str,
        *,
        session_cookie: str,
        csrf_cookie: str,
        username: str,
        password: str,
        static_path: str,
        admin: str = "/admin/",
        clients: int = 2,
    ):
        self.port, self.domain = port, domain
        #: "name=value" of the logged-in admin's session; the name of the CSRF cookie.
        self.session_cookie, self.csrf_cookie = session_cookie, csrf_cookie
        self.username, self.password = username, password
        self.static_path, self.admin, self.clients = static_path, admin, clients
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Traffic:
        self._threads = [
            threading.Thread(target=self._browse, args=(n,), name=f"client-{n}", daemon=True)
            for n in range(self.clients)
        ]
        self._threads.append(threading.Thread(target=self._slow, name="slow", daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> Summary:
        """Let every request in flight finish, then return what the stream got."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        with self._lock:
            return Summary(list(self.outcomes))

    def summary(self) -> Summary:
        with self._lock:
            return Summary(list(self.outcomes))

    def _record(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def _headers(self, cookie: str = "") -> dict[str, str]:
        headers = {"Host": self.domain, "User-Agent": "redeploy-traffic"}
        if cookie:
            headers["Cookie"] = cookie
        return headers

    def _browse(self, offset: int) -> None:
        """Go round page, admin, static on one keep-alive connection (a new one if it closes)."""
        requests = [
            ("page", "/", ""),
            ("admin", self.admin, self.session_cookie),
            ("static", self.static_path, ""),
        ]
        connection = None
        turn = offset
        while not self._stop.is_set():
            kind, path, cookie = requests[turn % len(requests)]
            turn += 1
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            started = time.monotonic()
            try:
                connection.request("GET", path, headers=self._headers(cookie))
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                self._record(Outcome(kind, 0, time.monotonic() - started, type(error).__name__))
                connection.close()
                connection = None
                continue
            error = ""
            if response.status != 200:
                error = f"HTTP {response.status}"
            elif kind == "admin" and self.username.encode() not in body:
                error = "the admin page does not show the logged-in user"
            self._record(Outcome(kind, response.status, time.monotonic() - started, error))
            if response.will_close:
                connection.close()
                connection = None
            time.sleep(PAUSE)
        if connection is not None:
            connection.close()

    def _slow(self) -> None:
        """Log in again and again, each login's body sent over SLOW_SECONDS."""
        while not self._stop.is_set():
            self._record(self.slow_login())

    def slow_login(self) -> Outcome:
        """Fetch the admin's login form, then post it with the body sent over SLOW_SECONDS."""
        path = f"{self.admin}login/?next={self.admin}"
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers=self._headers())
            form = connection.getresponse()
            page = form.read().decode("utf-8", "replace")
            cookies = SimpleCookie()
            for line in form.headers.get_all("Set-Cookie") or []:
                cookies.load(line)
            token = CSRF_FIELD.search(page)
            if form.status != 200 or token is None or self.csrf_cookie not in cookies:
                return Outcome("slow", form.status, time.monotonic() - started, "no login form")
            started = time.monotonic()  # the slow request itself: the post
            body = urlencode(
                {
                    "csrfmiddlewaretoken": token.group(1),
                    "username": self.username,
                    "password": self.password,
                    "next": self.admin,
                }
            ).encode()
            origin = f"https://{self.domain}"
            headers = {
                **self._headers(f"{self.csrf_cookie}={cookies[self.csrf_cookie].value}"),
                "Content-Type": "application/x-www-form-urlencoded",
                "Content-Length": str(len(body)),
                "Origin": origin,
                "Referer": origin + path,
            }
            connection.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            size = -(-len(body) // SLOW_CHUNKS)
            for start in range(0, len(body), size):
                time.sleep(SLOW_SECONDS / SLOW_CHUNKS)
                connection.send(body[start : start + size])
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            return Outcome("slow", 0, time.monotonic() - started, type(error).__name__)
        finally:
            with contextlib.suppress(OSError):
                connection.close()
        seconds = time.monotonic() - started
        if response.status != 302:
            return Outcome("slow", response.status, seconds, f"HTTP {response.status}")
        return Outcome("slow", response.status, seconds)
