"""The benchmark's pure parts (the bench package): parsing, tables, the brief's rebuild.

The benchmark itself is run by hand (README, "Benchmark"); nothing here measures or asserts a
timing.
"""

from __future__ import annotations

import importlib.util
import py_compile
import re
import shutil
import threading
import wsgiref.simple_server
from pathlib import Path

import pytest

from bench import brief, load, report, twins

# The output of `wrk -t 2 -c 32 -d 8s --latency` (wrk 4.1.0), figures edited for the test.
WRK_OUTPUT = """\
Running 8s test @ http://127.0.0.1:8000/health/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.02ms    9.80ms 301.11ms   91.23%
    Req/Sec     1.10k   150.22     1.40k    71.00%
  Latency Distribution
     50%  812.00us
     75%   17.50ms
     90%   22.04ms
     99%    2.01s
  17545 requests in 8.01s, 5.10MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   2190.39
Transfer/sec:    652.20KB
"""


def test_parse_wrk_reads_rate_percentiles_and_errors():
    result = load.parse_wrk(WRK_OUTPUT)
    assert result["rps"] == pytest.approx(2190.39)
    assert result["p50"] == pytest.approx(0.812)
    assert result["p75"] == pytest.approx(17.5)
    assert result["p90"] == pytest.approx(22.04)
    assert result["p99"] == pytest.approx(2010.0)
    assert result["requests"] == 17545
    assert result["non_2xx"] == 7
    assert result["socket_errors"] == 5


def test_parse_wrk_without_errors_counts_zero():
    clean = "\n".join(
        line
        for line in WRK_OUTPUT.splitlines()
        if "Socket errors" not in line and "Non-2xx" not in line
    )
    result = load.parse_wrk(clean)
    assert (result["non_2xx"], result["socket_errors"]) == (0, 0)


def test_parse_wrk_refuses_output_without_a_rate():
    with pytest.raises(ValueError, match="Requests/sec"):
        load.parse_wrk("unable to connect to 127.0.0.1:8000 Connection refused\n")


@pytest.mark.parametrize(
    ("text", "ms"),
    [("640.00us", 0.64), ("1.25ms", 1.25), ("3.00s", 3000.0), ("1.50m", 90_000.0)],
)
def test_parse_duration_ms(text, ms):
    assert load.parse_duration_ms(text) == pytest.approx(ms)


def test_parse_duration_ms_refuses_other_text():
    with pytest.raises(ValueError):
        load.parse_duration_ms("fast")


def test_render_table_is_markdown_with_aligned_columns():
    text = report.render_table(
        ["", "site", "brief"], [["req/s", "1,234", "56"], ["p99", "7.0", "800"]]
    )
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("|") and lines[0].endswith("|")
    assert re.fullmatch(r"\|-+\|-+:\|-+:\|", lines[1])
    assert len({len(line) for line in lines}) == 1  # every line padded to the same width
    assert [cell.strip() for cell in lines[2].strip("|").split("|")] == ["req/s", "1,234", "56"]


def test_render_table_refuses_a_short_row():
    with pytest.raises(ValueError, match="2 cells"):
        report.render_table(["a", "b", "c"], [["1", "2"]])


def test_replace_section_replaces_only_its_own_block():
    document = (
        "# Benchmarks\n\nText kept.\n\n<!-- bench:main:start -->\nold\n<!-- bench:main:end -->\n"
        "\nMore text.\n"
    )
    updated = report.replace_section(document, "main", "new table")
    assert "old" not in updated
    assert "<!-- bench:main:start -->\nnew table\n<!-- bench:main:end -->" in updated
    assert updated.startswith("# Benchmarks\n\nText kept.")
    assert updated.endswith("\nMore text.\n")


def test_replace_section_appends_a_missing_block():
    updated = report.replace_section("# Benchmarks\n", "compare-workers", "| a |")
    assert updated == (
        "# Benchmarks\n\n<!-- bench:compare-workers:start -->\n| a |\n"
        "<!-- bench:compare-workers:end -->\n"
    )


def test_stylesheet_href_finds_the_hashed_file():
    html = (
        '<link rel="icon" href="/static/img/favicon.1.svg">'
        '<link rel="stylesheet" href="/static/css/site.3a38b06c2df7.css">'
    )
    assert report.stylesheet_href(html) == "/static/css/site.3a38b06c2df7.css"
    assert report.stylesheet_href("<p>no styles</p>") is None


def test_brief_rebuild_is_a_project_that_compiles(tmp_path):
    site_package = tmp_path / "site" / "cfmp"
    (site_package / "templates").mkdir(parents=True)
    (site_package / "templates" / "home.html").write_text("<p>home</p>", encoding="utf-8")
    project = brief.build_brief_project(tmp_path / "brief", site_package)
    sources = sorted(project.rglob("*.py"))
    assert {p.relative_to(project).as_posix() for p in sources} >= {
        "manage.py",
        "cfmp/wsgi.py",
        "cfmp/urls.py",
        "cfmp/health.py",
        "cfmp/settings/base.py",
        "cfmp/settings/production.py",
    }
    for source in sources:
        py_compile.compile(str(source), cfile=str(tmp_path / "pyc" / source.name), doraise=True)
    assert (project / "cfmp" / "templates" / "home.html").read_text() == "<p>home</p>"
    assert "gunicorn==21.2.0" in (project / "requirements.txt").read_text()


BRIEF_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "brief" / "BRIEF-007-railway-deployment.md"
)


def _code_blocks(markdown: str) -> list[str]:
    return [block for block in re.findall(r"```[a-z]*\n(.*?)```", markdown, re.DOTALL)]


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


@pytest.mark.skipif(not BRIEF_FILE.exists(), reason=f"the brief is not at {BRIEF_FILE}")
def test_brief_snippets_are_the_briefs_own_text():
    """The settings, health view, pins and start command are the brief's, to the character."""
    blocks = [_normalise(block) for block in _code_blocks(BRIEF_FILE.read_text(encoding="utf-8"))]
    assert _normalise(brief.PRODUCTION_SETTINGS) in blocks
    assert _normalise(brief.HEALTH_VIEW) in blocks
    assert _normalise(brief.REQUIREMENTS) in blocks
    railway_toml = next(block for block in blocks if block.startswith("# railway.toml"))
    assert f'startCommand = "{brief.START_COMMAND}"' in railway_toml
    assert brief.START_COMMAND.endswith(brief.GUNICORN_COMMAND)


def test_combine_takes_medians_and_adds_errors():
    runs = [
        {"rps": 100.0, "p50": 5.0, "p99": 50.0, "non_2xx": 1, "socket_errors": 0, "status": 200},
        {"rps": 300.0, "p50": 1.0, "p99": 90.0, "non_2xx": 0, "socket_errors": 2, "status": 200},
        {"rps": 200.0, "p50": 3.0, "p99": 10.0, "non_2xx": 0, "socket_errors": 0, "status": 503},
    ]
    combined = load.combine(runs)
    assert (combined["rps"], combined["p50"], combined["p99"]) == (200.0, 3.0, 50.0)
    assert (combined["non_2xx"], combined["socket_errors"]) == (1, 2)
    assert combined["status"] == "200,503"


# The twins (bench/twins.py): built from an answer, compared with it, and the ratio table.

PAGE_ANSWER = twins.Answer(
    200,
    "OK",
    [
        ("Date", "Wed, 02 Dec 2026 10:00:00 GMT"),
        ("Server", "gunicorn"),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", "11"),
        ("Expires", "Wed, 02 Dec 2026 10:00:00 GMT"),
        ("Strict-Transport-Security", "max-age=31536000"),
    ],
    b"<p>page</p>",
)


def test_differences_name_each_header_status_and_body():
    twin = twins.Answer(
        503,
        "Service Unavailable",
        [("Content-Type", "text/html; charset=utf-8"), ("Expires", "x"), ("X-Extra", "1")],
        b"<p>other</p>",
    )
    found = twins.differences(PAGE_ANSWER, twin)
    assert found[0] == "status 503, the site's 200"
    assert "strict-transport-security: None, the site's 'max-age=31536000'" in found
    assert "x-extra: '1', the site's None" in found
    assert "content-length: None, the site's '11'" in found
    assert found[-1] == "body of 12 bytes, the site's 11"
    with pytest.raises(RuntimeError, match="the twin of / does not match the site: status 503"):
        twins.check_twin(PAGE_ANSWER, twin, "/")


def test_differences_leave_out_the_servers_headers_and_the_time_in_expires():
    twin = twins.Answer(
        200,
        "OK",
        [
            ("Date", "Thu, 03 Dec 2026 11:11:11 GMT"),
            ("Server", "other"),
            ("content-type", "text/html; charset=utf-8"),
            ("Content-Length", "11"),
            ("Expires", "Thu, 03 Dec 2026 11:11:11 GMT"),
            ("Strict-Transport-Security", "max-age=31536000"),
        ],
        b"<p>page</p>",
    )
    assert twins.differences(PAGE_ANSWER, twin) == []
    without_expires = twins.Answer(200, "OK", twin.headers[:4] + twin.headers[5:], twin.body)
    assert twins.differences(PAGE_ANSWER, without_expires) == [
        "expires: None, the site's 'Wed, 02 Dec 2026 10:00:00 GMT'"
    ]


def test_the_whitenoise_twin_gets_the_headers_whitenoise_does_not_set():
    css = twins.Answer(
        200,
        "OK",
        [
            ("Date", "d"),
            ("Content-Type", "text/css"),
            ("Cache-Control", "max-age=315360000, public, immutable"),
            ("Content-Encoding", "br"),
            ("Vary", "Accept-Encoding"),
            ("ETag", '"x"'),
            ("Cross-Origin-Resource-Policy", "same-origin"),
            ("X-Content-Type-Options", "nosniff"),
        ],
        b"css",
    )
    assert twins.middleware_headers(css) == [
        ["Cross-Origin-Resource-Policy", "same-origin"],
        ["X-Content-Type-Options", "nosniff"],
    ]
    assert twins.max_age(css) == 315360000
    with pytest.raises(ValueError, match="no Cache-Control max-age"):
        twins.max_age(PAGE_ANSWER)


def _figures(rps, p50, p99):
    return {"rps": rps, "p50": p50, "p99": p99, "non_2xx": 0, "socket_errors": 0, "status": 200}


def test_ratio_rows_give_medians_ratio_target_and_latency_spread():
    page = twins.Pair("page", "`/`", "/")
    page.site = [_figures(900.0, 10.0, 20.0), _figures(950.0, 11.0, 40.0)]
    page.twin = [_figures(1000.0, 5.0, 9.0), _figures(1000.0, 5.0, 11.0)]
    health = twins.Pair("health", "`/health/`", "/health/")
    health.site = [_figures(500.0, 10.0, 50.0)]
    health.twin = [_figures(1000.0, 5.0, 10.0)]
    page_row, health_row = twins.ratio_rows([page, health])
    assert page_row[:5] == ["`/`", "925", "1,000", "0.93", "≥ 0.90 yes"]
    assert page_row[5:8] == ["10.5 / 30.0", "2.9×", "5.0 / 10.0"]
    assert health_row[3:5] == ["0.50", "≥ 0.65 **no**"]
    assert health_row[6] == "5.0× **over 3×**"
    table = twins.twins_table([page, health])
    assert table.splitlines()[0].startswith("| path ")
    assert len(table.splitlines()) == 4


def test_one_worker_twins_run_one_never_recycled_worker_and_say_so():
    """--one-worker: gunicorn's own variables, the same for site and twins, and in the notes."""
    from bench.__main__ import ONE_WORKER_ENV, parse_args

    assert parse_args(["--twins", "--one-worker"]).one_worker
    assert not parse_args(["--twins"]).one_worker
    assert ONE_WORKER_ENV["WEB_CONCURRENCY"] == "1"
    assert ONE_WORKER_ENV["GUNICORN_CMD_ARGS"].split() == ["--max-requests", "0"]
    settings = load.LoadSettings(2, 1, 32, 2)
    notes = twins.describe(settings, 10, "1 1 1", "2 2 2", one_worker=True)
    assert "WEB_CONCURRENCY=1, --max-requests 0" in notes
    assert "WEB_CONCURRENCY" not in twins.describe(settings, 10, "1 1 1", "2 2 2")


def test_a_twin_gives_the_sites_answer_under_a_real_load(tmp_path):
    """A tiny real run: the twin WSGI app from an answer, served, checked and loaded by wrk."""
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not on PATH: apt-get install wrk (the benchmark and CI need it)")
    css = twins.Answer(200, "OK", [("Cache-Control", "max-age=60")], b"")
    twins.write_twins(tmp_path, PAGE_ANSWER, PAGE_ANSWER, css, tmp_path, "/static/")
    spec = importlib.util.spec_from_file_location("twin_wsgi", tmp_path / "twin_wsgi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = wsgiref.simple_server.make_server(
        "127.0.0.1", 0, module.application, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        twin = twins.fetch_answer(port, "/")
        twins.check_twin(PAGE_ANSWER, twin, "/")
        figures = load.measure(port, "/", load.LoadSettings(1, 0, 2, 1))
    finally:
        server.shutdown()
        server.server_close()
    assert figures["status"] == 200
    assert figures["rps"] > 0 and figures["non_2xx"] == 0
    assert figures["p50"] <= figures["p99"]


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def test_suite_cpu_table_ranks_units_by_cpu():
    from bench import suite_cpu

    records = [
        {"id": "tests/test_a.py::test_one", "worker": "gw0", "start": 100, "end": 110, "cpu": 4},
        {"id": "tests/test_a.py::test_two", "worker": "gw0", "start": 110, "end": 115, "cpu": 2},
        {
            "id": "tests/test_generated_site.py::test_site_test_suite[redis]",
            "worker": "gw1",
            "start": 100,
            "end": 130,
            "cpu": 14,
        },
    ]
    rows = suite_cpu.table(records, rows=5).splitlines()
    assert rows[2] == "| `tests/test_generated_site.py[redis]` | 1 | 30 | 14 | 70.0% | 0-30 (gw1) |"
    assert rows[3] == "| `tests/test_a.py` | 2 | 15 | 6 | 30.0% | 0-15 (gw0) |"
    assert (
        rows[-1]
        == "3 tests in 2 units: 30 s from the first test's start to the last one's end, 20 s CPU"
    )
    assert len(suite_cpu.table(records, rows=1).splitlines()) == 5
