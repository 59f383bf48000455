"""The benchmark's report: markdown tables, the notes under them, and docs/benchmarks.md.

``main_table`` and ``targets_table`` turn the figures of a main run into the tables the README
and docs/benchmarks.md show; ``write_docs`` replaces one marked section of that file.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from bench.configurations import Config, Environment, site_gunicorn_settings
from bench.load import PROBE_HOST, PUBLIC_HOST
from tests.support.combinations import TEMPLATE_DIR

DOCS_FILE = TEMPLATE_DIR / "docs" / "benchmarks.md"
#: The rows of the main table, in order: (kind, path); the stylesheet's path is found per site.
PATHS = [("health", "/health/"), ("page", "/"), ("css", None)]


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    """Return a markdown table; the first column left-aligned, the others right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells, the header {len(headers)}: {row!r}")
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        padded = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        ("-" * (w + 1) + "-") if i == 0 else ("-" * (w + 1) + ":") for i, w in enumerate(widths)
    )
    rule += "|"
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def replace_section(document: str, name: str, body: str) -> str:
    """Replace the text between ``<!-- bench:NAME:start -->`` and its end marker (or append)."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _: block, document)
    return document.rstrip() + "\n\n" + block + "\n"


def stylesheet_href(html: str) -> str | None:
    """Return the first stylesheet link of a page, or None."""
    match = re.search(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html)
    return match.group(1) if match else None


def fmt_rps(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def fmt_pct(part: float | None, whole: float | None) -> str:
    if part is None or not whole:
        return "—"
    return f"{100 * part / whole:.0f} %"


def fmt_mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def main_table(configs: list[Config], bake_seconds: float) -> str:
    """Return the main table: one column per configuration, one row per figure."""
    ceiling = next(c for c in configs if c.key == "ceiling").results
    headers = ["", *(c.title for c in configs)]
    rows = []
    labels = {"health": "`/health/`", "page": "`/`", "css": "CSS file"}

    def rate(c: Config, kind: str) -> str:
        figures = c.results[kind]
        return f"{fmt_rps(figures['rps'])} ({fmt_pct(figures['rps'], ceiling[kind]['rps'])})"

    def latency(c: Config, kind: str) -> str:
        figures = c.results[kind]
        return f"{fmt_ms(figures.get('p50'))} / {fmt_ms(figures.get('p99'))}"

    def answers(c: Config, kind: str) -> str:
        figures = c.results[kind]
        return f"{figures['status']}; {figures['non_2xx']}, {figures['socket_errors']}"

    for kind, _ in PATHS:
        label = labels[kind]
        rows.append([f"{label} req/s (% of ceiling)"] + [rate(c, kind) for c in configs])
        rows.append([f"{label} p50 / p99 ms"] + [latency(c, kind) for c in configs])
        rows.append(
            [f"{label} status; non-2xx/3xx, socket errors"] + [answers(c, kind) for c in configs]
        )

    def memory_cell(c: Config, key: str) -> str:
        rss, pss, count = c.results[key]
        return f"{fmt_mb(rss)} ({fmt_mb(pss)} PSS, {count} proc)"

    rows.append(["gunicorn RSS at rest, MB"] + [memory_cell(c, "rest") for c in configs])
    rows.append(["gunicorn RSS after load, MB"] + [memory_cell(c, "loaded") for c in configs])

    def start_cell(c: Config, key: str) -> str:
        timing = c.results[key]
        if timing["probe"] is not None:
            return fmt_s(timing["probe"])
        edge = timing["edge"]
        shown = f"never ({timing['probe_status']})"
        return shown + (f"; {fmt_s(edge)} with https header" if edge is not None else "")

    rows.append(["cold start to first 200 on probe, s"] + [start_cell(c, "cold") for c in configs])
    rows.append(["restart to first 200 on probe, s"] + [start_cell(c, "restart") for c in configs])

    def css_cell(c: Config, what: str) -> str:
        css = c.results.get("css_bytes")
        if not css:
            return "—"
        if what == "bytes":
            return (
                f"{css['packed']:,} {css['encoding']} / {css['plain']:,} "
                f"({fmt_pct(css['packed'], css['plain'])})"
            )
        return css["cache"]

    rows.append(["CSS bytes: br, gzip / none (%)"] + [css_cell(c, "bytes") for c in configs])
    rows.append(["CSS Cache-Control"] + [css_cell(c, "cache") for c in configs])

    def hung_cell(c: Config) -> str:
        hung = c.results.get("hung")
        return "—" if not hung else f"{fmt_s(hung['seconds'])} ({hung['outcome']})"

    rows.append(["`/health/` with a hung database, s"] + [hung_cell(c) for c in configs])
    rows.append(
        ["template bake, s"] + [fmt_s(bake_seconds) if c.key == "site" else "—" for c in configs]
    )
    return render_table(headers, rows)


def targets_table(by_key: dict[str, Config]) -> str:
    """Return the table of the brief's targets for the generated site, each met or not."""
    site, brief_r, ceiling = (by_key[k].results for k in ("site", "brief", "ceiling"))

    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    css = site.get("css_bytes") or {"packed": 0, "plain": 1, "cache": ""}
    hung = site.get("hung") or {"seconds": 99, "outcome": ""}
    cache = css["cache"]
    checks = [
        (
            "`/` ≥ 2× the brief's req/s",
            ratio(site["page"]["rps"], brief_r["page"]["rps"]),
            2.0,
            "×",
        ),
        (
            "`/health/` ≥ 1.5× the brief's req/s",
            ratio(site["health"]["rps"], brief_r["health"]["rps"]),
            1.5,
            "×",
        ),
        (
            "`/` ≥ 40 % of the ceiling",
            100 * ratio(site["page"]["rps"], ceiling["page"]["rps"]),
            40,
            "%",
        ),
        (
            "`/health/` ≥ 25 % of the ceiling",
            100 * ratio(site["health"]["rps"], ceiling["health"]["rps"]),
            25,
            "%",
        ),
    ]
    rows = [
        [
            name,
            f"{value:.2f}{unit}" if unit == "×" else f"{value:.0f} {unit}",
            "yes" if value >= goal else "**no**",
        ]
        for name, value, goal, unit in checks
    ]
    rss_after = site["loaded"][0]
    rows.append(
        [
            "gunicorn RSS after load ≤ 300 MB",
            f"{rss_after:.0f} MB",
            "yes" if rss_after <= 300 else "**no**",
        ]
    )
    cold = site["cold"]["probe"]
    rows.append(
        [
            "cold start to healthy ≤ 2 s",
            fmt_s(cold),
            "yes" if cold is not None and cold <= 2 else "**no**",
        ]
    )
    share = 100 * css["packed"] / css["plain"]
    max_age = re.search(r"max-age=(\d+)", cache)
    long_cache = bool(max_age) and int(max_age.group(1)) >= 31_536_000 and "immutable" in cache
    rows.append(
        [
            "CSS on the wire ≤ 25 %, one-year immutable cache",
            f"{share:.0f} %, {cache}",
            "yes" if share <= 25 and long_cache else "**no**",
        ]
    )
    hung_ok = hung["seconds"] <= 3 and hung["outcome"].isdigit()
    rows.append(
        [
            "`/health/` with a hung database ≤ 3 s",
            f"{fmt_s(hung['seconds'])} s ({hung['outcome']})",
            "yes" if hung_ok else "**no**",
        ]
    )
    return render_table(["target (generated site)", "measured", "met"], rows)


def machine_description(env: Environment) -> list[str]:
    """Return the lines that say what the run ran on (CPU, RAM, versions, date)."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    wrk_version = (wrk.stdout or wrk.stderr).splitlines()[0].split("Copyright")[0].strip()
    return [
        f"- CPU: {model.group(1) if model else platform.processor()}, {os.cpu_count()} cores",
        f"- RAM: {mem_kb / 1024 / 1024:.1f} GiB; kernel {platform.release()}",
        f"- Python {env.python_version} (both sites); PostgreSQL {env.pg_version}; {wrk_version}",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
    ]


def main_notes(env, load, rounds, load_before, load_after, by_key) -> str:
    """Return the notes under the main tables: the machine and how each figure was taken."""
    model = site_gunicorn_settings(env.site_dir, env.site_bin / "python", env.site_env())
    lines = [
        "Machine:",
        *machine_description(env),
        f"- load average (1, 5, 15 min) before: {load_before}; after: {load_after}",
        "",
        "Notes:",
        f"- Load: {load.describe()}, the same for every cell, through the edge's headers "
        f"(Host {PUBLIC_HOST}, X-Forwarded-Proto: https, Accept-Encoding: br, gzip); "
        f"{rounds} interleaved rounds (each path for every row before the next path, the order "
        "of the rows reversed every other round); each figure is the median of the rounds.",
        f"- Generated site: `gunicorn --config gunicorn.conf.py` with defaults "
        f"({model['workers']} workers × {model['threads']} threads, {model['worker_class']}).",
        "- Brief: its railway.toml start command (migrate, collectstatic, then gunicorn with its "
        "defaults: 1 sync worker), its production settings and health view, "
        f"{env.brief_pins_note}; base settings, URLs and page filled in as bench/brief.py says. "
        f"ALLOWED_HOSTS={PUBLIC_HOST},{PROBE_HOST} (with only the public domain, as in the "
        "brief, the probe gets 400).",
        "- Ceiling: bench/ceiling.py (fixed JSON body) under the site's gunicorn.conf.py.",
        "- Cold start: from the start command to the first 200 on `/health/` with Railway's probe "
        "(plain HTTP, Host healthcheck.railway.app); restart: the same after stopping it. "
        '"never (301)": the probe is redirected; the time with X-Forwarded-Proto: https follows.',
        "- RSS is the sum over the gunicorn master and workers (/proc/PID/status); PSS counts "
        "pages shared between them once, closer to what the container is billed for.",
        "- Hung database: the configuration started against a TCP server that accepts and never "
        "replies (the brief without its migrate step, which would hang first); one request to "
        "`/health/`.",
        f"- Bake: cookiecutter with the default answers, {env.bake_seconds:.2f} s.",
    ]
    admin = by_key["site"].results.get("admin_css_bytes")
    if admin:
        lines.append(
            f"- For scale, the admin's base.css on the site: {admin['packed']:,} of "
            f"{admin['plain']:,} bytes with br ({fmt_pct(admin['packed'], admin['plain'])})."
        )
    return "\n".join(lines)


def write_docs(section: str, text: str) -> None:
    """Replace ``section`` of docs/benchmarks.md with ``text``."""
    DOCS_FILE.parent.mkdir(parents=True, exist_ok=True)
    current = DOCS_FILE.read_text(encoding="utf-8") if DOCS_FILE.exists() else "# Benchmarks\n"
    DOCS_FILE.write_text(replace_section(current, section, text), encoding="utf-8")
    print(f"written to {DOCS_FILE.relative_to(TEMPLATE_DIR)} (section {section})", flush=True)
