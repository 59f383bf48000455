"""Twins: for each answer the site gives, the fastest thing that could give the same bytes.

A twin is built from the site's own answer, taken from the running site with the browser's
headers: the same status, the same body and the same headers (gunicorn adds Date, Server and
Connection itself, to both), run under the same gunicorn.conf.py on the same machine.

- ``/`` and ``/health/``: a bare WSGI callable (``twin_wsgi.py``, written into the run's folder
  beside ``twin_answers.json``) that looks the path up and returns the kept answer;
- the stylesheet: a bare ``WhiteNoise`` app over the site's collected files (``STATIC_ROOT``),
  with the site's cache lifetime and immutable test, and the headers the site's middleware adds
  to static files added by WhiteNoise's own ``add_headers_function``.

``check_twin`` compares each twin's answer with the site's before anything is measured, so a
twin that answered with fewer bytes or fewer headers stops the run instead of flattering it.
"""

from __future__ import annotations

import http.client
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import BROWSER_HEADERS, LoadSettings, combine, measure
from bench.report import fmt_ms, fmt_rps, render_table

#: Headers the server writes itself on every answer; a twin's gunicorn writes its own.
SERVER_HEADERS = frozenset({"date", "server", "connection", "keep-alive", "transfer-encoding"})
#: Headers whose value is the time of the answer (never_cache's Expires): compared by presence.
TIMED_HEADERS = frozenset({"expires"})
#: The headers WhiteNoise itself sets on a static file; any other header of the site's answer
#: came from the site's middleware and is added to the WhiteNoise twin.
WHITENOISE_HEADERS = frozenset(
    {"content-type", "content-length", "content-encoding", "vary", "cache-control"}
    | {"last-modified", "etag", "accept-ranges", "access-control-allow-origin"}
)
#: The rows, in order: (kind, label); the path of "css" is the site's stylesheet.
TWIN_ROWS = [("page", "`/`"), ("health", "`/health/`"), ("css", "stylesheet")]
#: The issue's targets: the site's req/s as a share of its twin's.
TARGETS = {"page": 0.90, "health": 0.65, "css": 0.95}
#: The issue's latency bound under load: p99 at most this many times p50 (for / and /health/).
P99_OVER_P50 = 3.0

TWIN_WSGI = '''\
"""Written by python -m bench --twins: the site's answers, returned as they are."""

import json
from pathlib import Path

_ANSWERS = json.loads(Path(__file__).with_name("twin_answers.json").read_text())
ANSWERS = {
    path: (a["status"], [tuple(h) for h in a["headers"]], a["body"].encode("latin-1"))
    for path, a in _ANSWERS.items()
}
MISSING = ("404 Not Found", [("Content-Length", "0")], b"")


def application(environ, start_response):
    status, headers, body = ANSWERS.get(environ["PATH_INFO"], MISSING)
    start_response(status, headers)
    return [body]
'''

TWIN_WHITENOISE = '''\
"""Written by python -m bench --twins: bare WhiteNoise over the site's collected files."""

import json
import re
from pathlib import Path

from whitenoise import WhiteNoise

SETTINGS = json.loads(Path(__file__).with_name("twin_whitenoise.json").read_text())
EXTRA_HEADERS = [tuple(h) for h in SETTINGS["headers"]]
HASHED = re.compile(r"\\.[0-9a-f]{12}\\.")


def not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Length", "0")])
    return [b""]


def add_headers(headers, path, url):
    for name, value in EXTRA_HEADERS:
        headers[name] = value


application = WhiteNoise(
    not_found,
    root=SETTINGS["root"],
    prefix=SETTINGS["prefix"],
    max_age=SETTINGS["max_age"],
    immutable_file_test=lambda path, url: bool(HASHED.search(url)),
    add_headers_function=add_headers,
)
'''


@dataclass
class Answer:
    """One answer as the site gave it: status line, headers (in order) and body."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def comparable(self) -> tuple[int, dict[str, str], bytes]:
        """Return what a twin must match: status, headers but the server's own, body."""
        kept = {k.lower(): v for k, v in self.headers if k.lower() not in SERVER_HEADERS}
        return self.status, kept, self.body


def fetch_answer(port: int, path: str) -> Answer:
    """Return the answer to one GET of ``path`` with the browser's headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=BROWSER_HEADERS)
        response = conn.getresponse()
        body = response.read()
        return Answer(response.status, response.reason, response.getheaders(), body)
    finally:
        conn.close()


def answer_json(answer: Answer) -> dict:
    """Return ``answer`` as the twin WSGI app reads it (body as latin-1 text: any bytes)."""
    headers = [[k, v] for k, v in answer.headers if k.lower() not in SERVER_HEADERS]
    return {
        "status": f"{answer.status} {answer.reason}",
        "headers": headers,
        "body": answer.body.decode("latin-1"),
    }


def middleware_headers(answer: Answer) -> list[list[str]]:
    """Return the headers of a static answer that WhiteNoise did not set (the middleware's)."""
    return [
        [k, v]
        for k, v in answer.headers
        if k.lower() not in SERVER_HEADERS and k.lower() not in WHITENOISE_HEADERS
    ]


def max_age(answer: Answer) -> int:
    """Return the max-age of an answer's Cache-Control, or raise when it has none."""
    for name, value in answer.headers:
        if name.lower() == "cache-control":
            for part in value.split(","):
                key, _, number = part.strip().partition("=")
                if key == "max-age":
                    return int(number)
    raise ValueError("the stylesheet has no Cache-Control max-age; the twin cannot copy it")


def write_twins(
    folder: Path, page: Answer, health: Answer, css: Answer, static_root: Path, prefix: str
) -> None:
    """Write the twin WSGI app and the WhiteNoise twin, with their data, into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    answers = {"/": answer_json(page), "/health/": answer_json(health)}
    (folder / "twin_answers.json").write_text(json.dumps(answers), encoding="utf-8")
    (folder / "twin_wsgi.py").write_text(TWIN_WSGI, encoding="utf-8")
    settings = {
        "root": str(static_root),
        "prefix": prefix,
        "max_age": max_age(css),
        "headers": middleware_headers(css),
    }
    (folder / "twin_whitenoise.json").write_text(json.dumps(settings), encoding="utf-8")
    (folder / "twin_whitenoise.py").write_text(TWIN_WHITENOISE, encoding="utf-8")


def differences(site: Answer, twin: Answer) -> list[str]:
    """Return how ``twin`` differs from ``site`` (status, headers, body); empty when equal.

    Expires (never_cache's, the time of the answer) must be there on both; every other header,
    ETag and Last-Modified of a static file included, must be equal.
    """
    s_status, s_headers, s_body = site.comparable()
    t_status, t_headers, t_body = twin.comparable()
    found = []
    if s_status != t_status:
        found.append(f"status {t_status}, the site's {s_status}")
    for name in sorted(s_headers.keys() | t_headers.keys()):
        if name in TIMED_HEADERS and name in s_headers and name in t_headers:
            continue
        if s_headers.get(name) != t_headers.get(name):
            found.append(f"{name}: {t_headers.get(name)!r}, the site's {s_headers.get(name)!r}")
    if s_body != t_body:
        found.append(f"body of {len(t_body)} bytes, the site's {len(s_body)}")
    return found


def twin_command(gunicorn: Path, folder: Path, app: str) -> str:
    """Return the start command of a twin: the site's gunicorn.conf.py, the twin's app."""
    return shlex.join(
        [str(gunicorn), "--config", "gunicorn.conf.py", "--pythonpath", str(folder), app]
    )


@dataclass
class Pair:
    """One row: the site and its twin on one path, with the rounds' figures of each."""

    kind: str
    label: str
    path: str
    site: list[dict] = field(default_factory=list)
    twin: list[dict] = field(default_factory=list)


def run_rounds(pairs: list[Pair], site_port: int, twin_ports: dict[str, int], load, rounds: int):
    """Measure every pair ``rounds`` times, site and twin back to back, the order swapped each
    round, so a burst of load from elsewhere lands on both sides of a ratio alike."""
    for number in range(rounds):
        for pair in pairs:
            sides = [("site", site_port), ("twin", twin_ports[pair.kind])]
            if number % 2:
                sides.reverse()
            for side, port in sides:
                print(f"round {number + 1}: {side} {pair.path} ...", flush=True)
                getattr(pair, side).append(measure(port, pair.path, load))


def ratio_rows(pairs: list[Pair]) -> list[list[str]]:
    """Return the table's rows: req/s of both sides, their ratio and target, p50 / p99."""
    rows = []
    for pair in pairs:
        site, twin = combine(pair.site), combine(pair.twin)
        ratio = site["rps"] / twin["rps"] if twin["rps"] else 0.0
        target = TARGETS[pair.kind]
        spread = site["p99"] / site["p50"] if site["p50"] else 0.0
        latency_bound = (
            f"{spread:.1f}×" + ("" if spread <= P99_OVER_P50 else " **over 3×**")
            if pair.kind != "css"
            else f"{spread:.1f}×"
        )
        rows.append(
            [
                pair.label,
                fmt_rps(site["rps"]),
                fmt_rps(twin["rps"]),
                f"{ratio:.2f}",
                f"≥ {target:.2f} " + ("yes" if ratio >= target else "**no**"),
                f"{fmt_ms(site['p50'])} / {fmt_ms(site['p99'])}",
                latency_bound,
                f"{fmt_ms(twin['p50'])} / {fmt_ms(twin['p99'])}",
                f"{site['status']}; {site['non_2xx'] + site['socket_errors']}",
            ]
        )
    return rows


TABLE_HEADERS = [
    "path",
    "site req/s",
    "twin req/s",
    "ratio",
    "target met",
    "site p50 / p99 ms",
    "site p99 / p50",
    "twin p50 / p99 ms",
    "site status; errors",
]


def twins_table(pairs: list[Pair]) -> str:
    """Return the twins table (markdown)."""
    return render_table(TABLE_HEADERS, ratio_rows(pairs))


def describe(
    load: LoadSettings, rounds: int, load_before: str, load_after: str, one_worker: bool = False
) -> str:
    """Return the lines under the twins table: how it was measured."""
    settings = (
        "the site's gunicorn.conf.py with one worker that is never recycled "
        "(WEB_CONCURRENCY=1, --max-requests 0), the same for the site"
        if one_worker
        else "the site's gunicorn.conf.py"
    )
    return "\n".join(
        [
            f"Medians of {rounds} interleaved rounds (site and twin back to back on each path, "
            f"the order swapped every round), {load.describe()}, Railway's edge headers and the "
            "browser's (Accept-Encoding: br, gzip). Load average (1, 5, 15 min) before: "
            f"{load_before}; after: {load_after}.",
            "",
            "- twin of `/` and `/health/`: a bare WSGI callable returning the site's answer (same "
            f"status, headers and bytes, taken from the running site) under {settings};",
            "- twin of the stylesheet: a bare `WhiteNoise` app over the site's collected files, "
            "with the site's max-age and the headers the site's middleware adds;",
            "- each twin's answer was compared with the site's (status, every header but Date "
            "and Server, body) before the load, and matched.",
        ]
    )


def check_twin(site: Answer, twin: Answer, what: str) -> None:
    """Raise when ``twin`` does not give the site's answer for ``what``."""
    found = differences(site, twin)
    if found:
        raise RuntimeError(f"the twin of {what} does not match the site: " + "; ".join(found))
