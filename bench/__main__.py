"""Benchmark: the generated site side by side with the brief's configuration and a bare ceiling.

    .venv/bin/python -m bench            # the table; also written to docs/benchmarks.md
    .venv/bin/python -m bench --compare workers  # or: database, gunicorn (variants of the site)
    .venv/bin/python -m bench --twins    # the site against its twins (bench/twins.py), as ratios

One run bakes the default site, installs it from its hashed lock, collects its static files,
runs its pre-deploy step against a throwaway PostgreSQL database, rebuilds the brief's project
(bench/brief.py) into its own virtual environment, and then measures every configuration with
the same load (wrk, same threads, connections, warm-up and duration). Needs: PostgreSQL at
127.0.0.1:5432 (or CFMP_TEST_POSTGRES_URL), wrk on PATH, the package registry for the first
install (venvs are cached under ~/.cache/cfmp-railway/bench/).

The figures are for comparing rows of one run on one machine; absolute numbers depend on the
machine and on what else runs on it (the load average is printed with the table).

The parts: ``bench.configurations`` (what is measured), ``bench.load`` (how), ``bench.report``
(the tables); this module runs them in order.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.configurations import (
    DB_SETTINGS,
    DB_VARIANTS,
    GUNICORN_VARIANTS,
    NO_ACCESS_LOG_CONFIG,
    SLUG,
    VARIANTS,
    Config,
    Environment,
    Server,
    main_configs,
    prepare,
)
from bench.load import (
    BROWSER_HEADERS,
    EDGE_HEADERS,
    LoadSettings,
    combine,
    load_average,
    measure,
    request,
    time_hung_health,
    wait_healthy,
)
from bench.report import (
    PATHS,
    fmt_mb,
    fmt_ms,
    fmt_rps,
    main_notes,
    main_table,
    render_table,
    stylesheet_href,
    targets_table,
    write_docs,
)
from bench.twins import (
    TWIN_ROWS,
    Pair,
    check_twin,
    describe,
    fetch_answer,
    run_rounds,
    twin_command,
    twins_table,
    write_twins,
)
from tests.support.databases import manage_database
from tests.support.railway_emulator import HungDatabase


def start_and_time(config: Config) -> None:
    """Cold start, then a restart (stop, start again); leaves the server running."""
    server = config.server
    server.start()
    config.results["cold"] = wait_healthy(server)
    server.stop()
    server.start()
    config.results["restart"] = wait_healthy(server)
    time.sleep(1.0)
    config.results["rest"] = server.memory_mb()


def css_figures(config: Config, fallback: str | None) -> None:
    """Record the stylesheet's path and its size with and without compression."""
    port = config.server.port
    status, _, body = request(port, "/", BROWSER_HEADERS)
    href = stylesheet_href(body.decode("utf-8", "replace")) if status == 200 else None
    config.results["css_path"] = href or fallback
    if not href:
        return
    _, plain_headers, plain = request(port, href, EDGE_HEADERS)
    _, packed_headers, packed = request(port, href, BROWSER_HEADERS)
    config.results["css_bytes"] = {
        "plain": len(plain),
        "packed": len(packed),
        "encoding": packed_headers.get("content-encoding", "none"),
        "cache": plain_headers.get("cache-control", "(none)"),
    }
    # A bigger stylesheet of the same site, for scale: the admin's base.css (hashed name).
    manifest = config.server.cwd / "staticfiles" / "staticfiles.json"
    if config.key == "site" and manifest.exists():
        names = json.loads(manifest.read_text(encoding="utf-8"))["paths"]
        admin = "/static/" + names["admin/css/base.css"]
        _, _, plain = request(port, admin, EDGE_HEADERS)
        _, _, packed = request(port, admin, BROWSER_HEADERS)
        config.results["admin_css_bytes"] = {"plain": len(plain), "packed": len(packed)}


def hung_database_figures(env: Environment, configs: list[Config]) -> None:
    """Start each configuration against a database that never answers; time /health/."""
    hung = HungDatabase()
    url = f"postgres://postgres@127.0.0.1:{hung.port}/hung"
    servers, threads = [], []
    try:
        for config in configs:
            if config.hung_command is None:
                continue
            original = config.server
            server = Server(
                original.name + "-hung",
                config.hung_command,
                original.cwd,
                {**original.env, "DATABASE_URL": url},
                original.log,
            )
            server.start()
            servers.append(server)

            def work(config=config, server=server):
                config.results["hung"] = time_hung_health(server)

            thread = threading.Thread(target=work)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
    finally:
        for server in servers:
            server.stop()
        hung.close()


def main_run(env: Environment, load: LoadSettings, rounds: int) -> str:
    """Measure every configuration of the main table; return the tables and their notes."""
    configs = main_configs(env)
    by_key = {c.key: c for c in configs}
    load_before = load_average()
    try:
        for config in configs:
            print(f"starting {config.title} (cold start, restart) ...", flush=True)
            start_and_time(config)
        site_css = None
        for config in configs:
            css_figures(config, site_css)
            site_css = site_css or config.results.get("css_path")
        # Interleaved: each path is measured for every configuration before the next path, and
        # every other round runs the configurations in reverse order, so a burst of load from
        # elsewhere on the machine spreads over the rows instead of landing on one.
        samples: dict[tuple[str, str], list[dict]] = {}
        for round_number in range(rounds):
            order = configs if round_number % 2 == 0 else list(reversed(configs))
            for kind, path in PATHS:
                for config in order:
                    target = path or config.results.get("css_path") or site_css
                    print(f"round {round_number + 1}: {config.key} {target} ...", flush=True)
                    figures = measure(config.server.port, target, load)
                    samples.setdefault((config.key, kind), []).append(figures)
        for (key, kind), runs in samples.items():
            by_key[key].results[kind] = combine(runs)
        for config in configs:
            config.results["loaded"] = config.server.memory_mb()
    finally:
        for config in configs:
            config.server.stop()
    print("hung database ...", flush=True)
    hung_database_figures(env, configs)
    load_after = load_average()
    table = main_table(configs, env.bake_seconds)
    targets = targets_table(by_key)
    notes = main_notes(env, load, rounds, load_before, load_after, by_key)
    return f"{table}\n\n{targets}\n\n{notes}"


def compare_run(
    env: Environment, load: LoadSettings, rounds: int, which: str, only: list[str]
) -> str:
    """Measure the variants of the site named by ``which``; return their table."""
    for name, code in DB_SETTINGS.items():
        module = (
            f"# Written by python -m bench --compare.\nfrom {SLUG}.settings.production import *\n\n"
        )
        (env.site_dir / f"bench_db_{name}.py").write_text(module + code + "\n", encoding="utf-8")
    (env.site_dir / "bench_gunicorn_no_access_log.py").write_text(
        NO_ACCESS_LOG_CONFIG, encoding="utf-8"
    )
    variants = {"workers": VARIANTS, "database": DB_VARIANTS, "gunicorn": GUNICORN_VARIANTS}[which]
    if only:
        variants = [(label, changes) for label, changes in variants if label in only]
    paths = (
        [("/health/", "health")] if which == "database" else [("/health/", "health"), ("/", "page")]
    )
    servers = []
    for index, (label, changes) in enumerate(variants):
        config_file = changes.get("BENCH_GUNICORN_CONFIG", "gunicorn.conf.py")
        site_cmd = shlex.join([str(env.site_bin / "gunicorn"), "--config", config_file])
        servers.append(
            (
                label,
                Server(
                    f"v{index}",
                    site_cmd,
                    env.site_dir,
                    env.site_env(**changes),
                    env.workdir / f"v{index}.log",
                ),
            )
        )
    samples: dict[tuple[str, str], list[dict]] = {}
    memory: dict[str, tuple] = {}
    try:
        for label, server in servers:
            server.start()
            timing = wait_healthy(server)
            if timing["probe"] is None:
                raise RuntimeError(f"{label} did not become healthy: {timing}; see {server.log}")
        for round_number in range(rounds):
            for path, kind in paths:
                order = servers if round_number % 2 == 0 else list(reversed(servers))
                for label, server in order:
                    print(f"round {round_number + 1} {label} {path} ...", flush=True)
                    samples.setdefault((label, kind), []).append(measure(server.port, path, load))
        for label, server in servers:
            memory[label] = server.memory_mb()
    finally:
        for _, server in servers:
            server.stop()

    def median(label: str, kind: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[(label, kind)])

    rows = []
    for label, _changes in variants:
        row = [label]
        for _path, kind in paths:
            rps = median(label, kind, "rps")
            row.append(fmt_rps(rps))
            row.append(
                f"{fmt_ms(median(label, kind, 'p50'))} / {fmt_ms(median(label, kind, 'p99'))}"
            )
        row.append(fmt_mb(memory[label][0]) + f" ({fmt_mb(memory[label][1])} PSS)")
        rows.append(row)
    headers = ["variant"]
    for path, _ in paths:
        headers += [f"`{path}` req/s"]
        headers += [f"`{path}` p50 / p99 ms"]
    headers.append("RSS after load, MB")
    title = (
        f"Median of {rounds} interleaved rounds, {load.describe()}; load average at the end "
        f"{load_average()}."
    )
    return title + "\n\n" + render_table(headers, rows)


#: ``--twins --one-worker``: what site and twins both run with instead of the defaults.
ONE_WORKER_ENV = {"WEB_CONCURRENCY": "1", "GUNICORN_CMD_ARGS": "--max-requests 0"}


def twins_run(env: Environment, load: LoadSettings, rounds: int, one_worker: bool = False) -> str:
    """Measure the site against its twins (bench/twins.py); return the table and its notes.

    With ``one_worker`` the site and every twin run one worker that is never recycled: each
    round then measures the answers' code, not where gunicorn's connections landed.
    """
    load_before = load_average()
    server_env = {**env.site_env(), **(ONE_WORKER_ENV if one_worker else {})}
    site_cmd = shlex.join([str(env.site_bin / "gunicorn"), "--config", "gunicorn.conf.py"])
    site = Server("site", site_cmd, env.site_dir, server_env, env.workdir / "site.log")
    folder = env.workdir / "twins"
    servers = [site]
    try:
        site.start()
        if wait_healthy(site)["probe"] is None:
            raise RuntimeError(f"the site did not become healthy; see {site.log}")
        fetch_answer(site.port, "/")  # the first answer fills the page cache
        page, health = fetch_answer(site.port, "/"), fetch_answer(site.port, "/health/")
        css_path = stylesheet_href(page.body.decode("utf-8", "replace"))
        if page.status != 200 or health.status != 200 or not css_path:
            raise RuntimeError(f"the site answered / {page.status}, /health/ {health.status}")
        css = fetch_answer(site.port, css_path)
        write_twins(folder, page, health, css, env.site_dir / "staticfiles", "/static/")
        gunicorn = env.site_bin / "gunicorn"
        twin = Server(
            "twin",
            twin_command(gunicorn, folder, "twin_wsgi:application"),
            env.site_dir,
            server_env,
            env.workdir / "twin.log",
        )
        whitenoise = Server(
            "twin-whitenoise",
            twin_command(gunicorn, folder, "twin_whitenoise:application"),
            env.site_dir,
            server_env,
            env.workdir / "twin-whitenoise.log",
        )
        servers += [twin, whitenoise]
        for server in (twin, whitenoise):
            server.start()
            wait_listening(server)
        check_twin(page, fetch_answer(twin.port, "/"), "/")
        check_twin(health, fetch_answer(twin.port, "/health/"), "/health/")
        check_twin(css, fetch_answer(whitenoise.port, css_path), "the stylesheet")
        paths = {"page": "/", "health": "/health/", "css": css_path}
        pairs = [Pair(kind, label, paths[kind]) for kind, label in TWIN_ROWS]
        ports = {"page": twin.port, "health": twin.port, "css": whitenoise.port}
        run_rounds(pairs, site.port, ports, load, rounds)
    finally:
        for server in servers:
            server.stop()
    notes = describe(load, rounds, load_before, load_average(), one_worker)
    return twins_table(pairs) + "\n\n" + notes


def wait_listening(server: Server, limit: float = 30.0) -> None:
    """Return once ``server`` answers HTTP at all; raise after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            request(server.port, "/", {"Host": "localhost"}, timeout=2)
            return
        time.sleep(0.02)
    raise RuntimeError(f"{server.name} did not answer in {limit:.0f} s; see {server.log}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command line's options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--compare",
        choices=["workers", "database", "gunicorn"],
        help="compare variants of the site instead",
    )
    parser.add_argument(
        "--twins", action="store_true", help="the site against its twins (bench/twins.py)"
    )
    parser.add_argument(
        "--one-worker",
        action="store_true",
        help="--twins: site and twins with one worker, never recycled (WEB_CONCURRENCY=1, "
        "--max-requests 0)",
    )
    parser.add_argument("--only", default="", help="--compare: comma-separated variant labels")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of load (median)")
    parser.add_argument("--duration", type=int, default=8, help="seconds of load per cell")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per cell")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print its table and write it to docs/benchmarks.md."""
    args = parse_args(argv)
    load = LoadSettings(args.duration, args.warmup, args.connections, args.threads)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="cfmp-bench-"))
    env = None
    try:
        env = prepare(workdir, with_pool=args.compare == "database")
        if args.twins:
            text = twins_run(env, load, args.rounds, args.one_worker)
            section = "twins-one-worker" if args.one_worker else "twins"
        elif args.compare:
            only = [label.strip() for label in args.only.split(",") if label.strip()]
            text = compare_run(env, load, args.rounds, args.compare, only)
            section = f"compare-{args.compare}"
        else:
            text = main_run(env, load, args.rounds)
            section = "main"
        print("\n" + text + "\n")
        print(f"(benchmark wall time {time.monotonic() - started:.0f} s)")
        if not args.no_write:
            write_docs(section, text)
    finally:
        if env is not None:
            for name in (env.site_db, env.brief_db):
                with contextlib.suppress(Exception):
                    manage_database(env.site_bin / "python", name, "drop")
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
