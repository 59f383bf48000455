"""Lighthouse's four categories for the running production site, as a browser sees it.

The default site is built, pre-deployed and served by gunicorn with production settings
(``get_prepared``, ``serve``) behind a TLS edge (``tls_edge``: HAProxy, HTTPS and HTTP/2 under the
site's public domain, as Railway's edge serves it). Lighthouse 12.2.3 (``tests/tools/lighthouse``,
installed from its lock) audits ``/``, a 404 and the admin login with the mobile and desktop
presets, all six in one Debian Chromium (``CHROME_PATH``); an audit whose Performance (the one
timed category) is under the bar is run twice more and scored by the median of its three runs.
The JSON reports go to pytest's temporary folder (``lighthouse/``); the scores table is printed
(``-s -n 0``) and written next to them as ``lighthouse-scores.md``, the table of
docs/benchmarks.md.

Required: Performance, Accessibility, Best Practices and SEO at least 0.95 on every page and
preset, Accessibility 1.00 on ``/``. Two SEO scores are exempt, each only for the audit that
explains it (any other SEO audit failing there still fails the test): the 404 answers 404, so
"Page has successful HTTP status code" fails by design; the admin login says ``noindex``, so "Page
is blocked from indexing" fails by design (search engines must not list the admin).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM
from tests.support.combinations import TEMPLATE_DIR
from tests.support.live_site import serve
from tests.support.processes import CACHE_DIR, file_lock, tail
from tests.support.tls_edge import tls_edge

# Under pytest-xdist the module is one work unit (one worker, one browser: tests/support/
# scheduling.py), and the audits hold ``measuring``, so no burst of another module runs meanwhile.
pytestmark = pytest.mark.slow

RUNNER_DIR = TEMPLATE_DIR / "tests" / "tools" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
LABELS = {
    "performance": "Performance",
    "accessibility": "Accessibility",
    "best-practices": "Best Practices",
    "seo": "SEO",
}
MINIMUM = 0.95
#: The pages audited: id -> path.
#: {admin} is the bake's own admin path (Site.at).
PAGES = {"home": "/", "not-found": "/no-such-page/", "admin-login": "{admin}login/"}
PRESETS = ["mobile", "desktop"]
#: Higher bars than MINIMUM: (page, category) -> score.
REQUIRED = {("home", "accessibility"): 1.0}
#: SEO audits allowed to fail, with the reason: (page, audit id) -> why.
EXEMPT = {
    ("not-found", "http-status-code"): "a missing page must answer 404",
    ("admin-login", "is-crawlable"): "the admin says noindex: search engines must not list it",
}
#: Whole-run limit for the six audits (one browser), in seconds.
AUDIT_TIMEOUT = 600


@pytest.fixture(scope="module")
def runner() -> list[str]:
    """Return the command that runs the Lighthouse runner, installing it from its lock once."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: apt-get install nodejs npm", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium", pytrace=False)
    with file_lock(CACHE_DIR / "lighthouse-npm.lock"):
        if not (RUNNER_DIR / "node_modules" / "lighthouse").is_dir():
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail("npm is needed to install Lighthouse", pytrace=False)
            proc = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(RUNNER_DIR)],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                pytest.fail(
                    f"npm ci for Lighthouse failed:\n{tail(proc.stdout + proc.stderr)}",
                    pytrace=False,
                )
    return [node, str(RUNNER_DIR / "run.mjs")]


@pytest.fixture(scope="module")
def audits(runner, get_prepared, tmp_path_factory, measuring) -> dict[tuple[str, str], dict]:
    """Run the six audits in one browser; return (page, preset) -> the runner's result."""
    site = get_prepared("default")
    folder = tmp_path_factory.mktemp("lighthouse")
    with serve(site) as server, tls_edge(site.domain, server.port, folder / "edge") as edge:
        plan = {
            "outDir": str(folder),
            "chromeFlags": [
                "--no-sandbox",
                "--ignore-certificate-errors",
                f"--host-resolver-rules={edge.resolver_rule}",
            ],
            "audits": [
                {
                    "name": f"{page}-{preset}",
                    "preset": preset,
                    "url": f"https://{site.domain}{site.at(path)}",
                }
                for page, path in PAGES.items()
                for preset in PRESETS
            ],
        }
        started = time.monotonic()
        results = run_plan(runner, plan, folder / "plan.json", measuring)
        by_name = {result["name"]: result for result in results}
        # Performance is timed on a CPU the other workers share: an audit under the bar is run
        # twice more and scored by the median of its three runs (Lighthouse's own advice on
        # variability); the other categories do not depend on timing and keep the first run's.
        for run in (2, 3):
            slow = [a for a in plan["audits"] if performance_short(by_name[a["name"]])]
            if not slow:
                break
            again = {**plan, "audits": [{**a, "name": f"{a['name']}-run{run}"} for a in slow]}
            for result in run_plan(runner, again, folder / f"plan-run{run}.json", measuring):
                first = by_name[result["name"].rsplit("-run", 1)[0]]
                first.setdefault("performance_runs", [first["scores"]["performance"]])
                first["performance_runs"].append(result["scores"]["performance"])
        for result in results:
            if "performance_runs" in result:
                result["scores"]["performance"] = statistics.median(result["performance_runs"])
        seconds = time.monotonic() - started
    table = scores_table(results)
    (folder / "lighthouse-scores.md").write_text(table + "\n")
    print(f"\n{table}\n\naudits in {seconds:.1f} s; reports in {folder}")
    return {(r["name"].rsplit("-", 1)[0], r["preset"]): r for r in results}


def run_plan(runner: list[str], plan: dict, path: Path, measuring) -> list[dict]:
    """Run the audits of ``plan`` in one browser (holding ``measuring``); return the results."""
    path.write_text(json.dumps(plan, indent=2))
    with measuring():
        proc = subprocess.run(
            [*runner, str(path)],
            env={**os.environ, "CHROME_PATH": CHROMIUM},
            capture_output=True, text=True, timeout=AUDIT_TIMEOUT, check=False,
        )  # fmt: skip
    assert proc.returncode == 0, f"run.mjs exited {proc.returncode}:\n{tail(proc.stderr)}"
    if proc.stderr.strip():
        print(f"runner said:\n{tail(proc.stderr)}")
    return json.loads(proc.stdout)


def performance_short(result: dict) -> bool:
    """Return whether an audit's Performance score is under its bar."""
    page = result["name"].rsplit("-", 1)[0]
    return result["scores"]["performance"] < REQUIRED.get((page, "performance"), MINIMUM)


def scores_table(results: list[dict]) -> str:
    """Return the scores as the Markdown table of docs/benchmarks.md."""
    header = "| page | preset | " + " | ".join(LABELS[c] for c in CATEGORIES) + " |"
    lines = [header, "|---|---|" + "--:|" * len(CATEGORIES)]
    for result in results:
        page = result["name"].rsplit("-", 1)[0]
        cells = [f"{result['scores'][c]:.2f}" for c in CATEGORIES]
        lines.append(f"| {PAGES[page]} | {result['preset']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


each_audit = pytest.mark.parametrize(
    ("page", "preset"), [(page, preset) for page in PAGES for preset in PRESETS]
)


@each_audit
def test_audited_the_page_asked_for(audits, page, preset):
    """Each report is of the page asked for (no redirect elsewhere), on Lighthouse 12.2.3."""
    result = audits[page, preset]
    assert result["lighthouse"] == "12.2.3"
    assert result["finalUrl"] == result["url"]
    report = json.loads(Path(result["report"]).read_text(encoding="utf-8"))
    assert set(report["categories"]) == set(CATEGORIES)


@each_audit
@pytest.mark.parametrize("category", CATEGORIES)
def test_category_score(audits, page, preset, category):
    """Every category at least 0.95 (1.00 where required), SEO only exempt for its reason."""
    result = audits[page, preset]
    score = result["scores"][category]
    failing = result["failing"][category]
    if category == "seo":
        exempt = [f for f in failing if (page, f.split("=")[0]) in EXEMPT]
        failing = [f for f in failing if f not in exempt]
        if exempt:
            assert not failing, f"{page} {preset}: SEO audits failing besides {exempt}: {failing}"
            return
    wanted = REQUIRED.get((page, category), MINIMUM)
    assert score >= wanted, (
        f"{page} {preset}: {LABELS[category]} {score:.2f} < {wanted:.2f}; failing: {failing}"
    )
