"""Load generation and probing: wrk runs, single requests, Railway's healthcheck probe.

Every figure of the benchmark comes from here: ``measure`` (a warm-up, then one timed wrk run
with the same settings for every cell), ``wait_healthy`` (start to the first 200 on the probe),
``time_hung_health`` (one /health/ against a database that hangs) and ``combine`` (the median of
the interleaved rounds).
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.railway_emulator import HEALTHCHECK_HOST, Instance

#: The default answers' public domain on Railway.
PUBLIC_HOST = "cfmp-production.up.railway.app"
PROBE_HOST = HEALTHCHECK_HOST
#: What Railway's edge adds to every public request (docs: networking/public-networking/
#: specs-and-limits; wrk sends the same request id every time, the edge a new one), and what a
#: browser asks for.
EDGE_HEADERS = {
    "Host": PUBLIC_HOST,
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": PUBLIC_HOST,
    "X-Real-IP": "203.0.113.7",
    "X-Railway-Edge": "railway/us-west2",
    "X-Railway-Request-Id": "Vq3Lm8RtXw2Pz9NkYb4HcA",
    "X-Request-Start": "1764700000000",
}
BROWSER_HEADERS = {**EDGE_HEADERS, "Accept-Encoding": "br, gzip"}
#: Railway's healthcheck probe: plain HTTP, its own Host, no forwarded headers.
PROBE_HEADERS = {"Host": PROBE_HOST}


@dataclass
class LoadSettings:
    """The load of every cell of a run: wrk's threads and connections, warm-up, duration."""

    duration: int = 8
    warmup: int = 2
    connections: int = 32
    threads: int = 2

    def describe(self) -> str:
        return (
            f"wrk -t {self.threads} -c {self.connections} -d {self.duration}s "
            f"after a {self.warmup} s warm-up"
        )


_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_duration_ms(text: str) -> float:
    """Return one of wrk's latency figures ("812.00us", "1.25ms", "2.01s") in milliseconds."""
    match = re.fullmatch(r"\s*([\d.]+)\s*(us|ms|s|m|h)\s*", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _TIME_UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> dict:
    """Return the figures of a ``wrk --latency`` run: rps, p50-p99 (ms), requests, errors."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if not rps:
        raise ValueError("no Requests/sec line in wrk's output:\n" + output)
    result = {"rps": float(rps.group(1))}
    for percent, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE):
        result[f"p{percent}"] = parse_duration_ms(value)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    result["requests"] = int(total.group(1)) if total else 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["socket_errors"] = sum(int(n) for n in errors.groups()) if errors else 0
    return result


def request(
    port: int, path: str, headers: dict[str, str], timeout: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    """Send one GET over a new connection; return (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def wait_healthy(server: Instance, limit: float = 120.0) -> dict:
    """Return the seconds from the start command to the first 200 on /health/.

    ``probe``: Railway's probe as it is (plain HTTP, Host healthcheck.railway.app).
    ``edge``: the same Host with X-Forwarded-Proto: https, for a configuration whose probe never
    gets a 200 (the brief redirects it). Gives up on the probe 3 s after the edge got its 200.
    """
    result = {"probe": None, "edge": None, "probe_status": None}
    edge_headers = {**PROBE_HEADERS, "X-Forwarded-Proto": "https"}
    while time.monotonic() - server.started_at < limit:
        if not server.running():
            result["probe_status"] = "exited"
            break
        elapsed = time.monotonic() - server.started_at
        try:
            status, _, _ = request(server.port, "/health/", PROBE_HEADERS, timeout=5)
        except OSError:
            time.sleep(0.02)
            continue
        result["probe_status"] = status
        if status == 200:
            result["probe"] = elapsed
            result["edge"] = result["edge"] or elapsed
            break
        if result["edge"] is None:
            with contextlib.suppress(OSError):
                if request(server.port, "/health/", edge_headers, timeout=5)[0] == 200:
                    result["edge"] = time.monotonic() - server.started_at
        elif elapsed - result["edge"] > 3:
            break
        time.sleep(0.02)
    return result


def run_wrk(port: int, path: str, seconds: int, load: LoadSettings) -> dict:
    """Run wrk against ``path`` for ``seconds`` with the browser's headers; return its figures."""
    command = [
        "wrk",
        "-t",
        str(load.threads),
        "-c",
        str(load.connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    for name, value in BROWSER_HEADERS.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    proc = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return parse_wrk(proc.stdout)


def measure(port: int, path: str, load: LoadSettings) -> dict:
    """Check the answer once, warm up, then return the figures of one timed wrk run."""
    status, _, _ = request(port, path, BROWSER_HEADERS)
    if load.warmup:
        run_wrk(port, path, load.warmup, load)
    result = run_wrk(port, path, load.duration, load)
    result["status"] = status
    return result


def time_hung_health(server: Instance, limit: float = 45.0) -> dict:
    """Return the seconds until /health/ answers while the database hangs, and the answer."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until gunicorn listens (no migrate here)
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", server.port), 1):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    headers = {**PROBE_HEADERS, "X-Forwarded-Proto": "https"}
    started = time.monotonic()
    try:
        status, _, _ = request(server.port, "/health/", headers, timeout=limit)
        outcome = str(status)
    except (http.client.RemoteDisconnected, ConnectionResetError):
        outcome = "closed, no answer"
    except TimeoutError:
        outcome = f"no answer in {limit:.0f} s"
    return {"seconds": time.monotonic() - started, "outcome": outcome}


def combine(runs: list[dict]) -> dict:
    """Return one cell from its rounds: the median of each figure, errors added up."""
    combined = {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50", "p99")}
    combined["non_2xx"] = sum(run["non_2xx"] for run in runs)
    combined["socket_errors"] = sum(run["socket_errors"] for run in runs)
    combined["status"] = ",".join(sorted({str(run["status"]) for run in runs}))
    return combined


def load_average() -> str:
    """Return the machine's load average over 1, 5 and 15 minutes."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
