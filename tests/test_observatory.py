"""The Observatory scorer (tests/support/observatory.py) on hand-made header sets, then the site.

Every expected number below was worked out by hand from the published tables in
mdn/mdn-http-observatory ``src/grader/charts.js`` (algorithm version 6), not taken from the
scorer: start at 100, add each test's modifier; bonuses count only when the penalties alone leave
at least 90. The "perfect" set earns CSP +10, cookies +5, COEP +10, COOP +10, Referrer-Policy
+5, X-Frame-Options (via CSP) +5, CORP +10 = 155; each case changes one thing.

The tests at the end (slow) score the generated site itself, for every combination: one real
gunicorn per combination (tests/support/live_site.py), production settings, a migrated
PostgreSQL database, requests with the edge's headers, and plain HTTP for the redirect. `/`, the
admin login page and a 404 page must each score at least 130 (A+ with extra credit). Run with -s
to see each page's score table.

The drift guard (``test_upstream_analyzer_grades_the_same``) feeds the same captured responses
to upstream's own ``analyzeScan()`` from the npm package ``@mdn/mdn-http-observatory``
(tests/tools/observatory, pinned with a lock) and requires the same results, score and grade for
every test both know. It runs when the machine's Node satisfies the package's ``engines``
(``>=24``) and is skipped with that reason otherwise.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field

import pytest

from tests.support import observatory
from tests.support.combinations import COMBINATIONS, IDS, TEMPLATE_DIR
from tests.support.live_site import Server, serve
from tests.support.observatory import Response, grade_for, score, total
from tests.support.processes import CACHE_DIR, file_lock, tail

URL = "https://food.example.org/"
REDIRECTS = ["http://food.example.org/", "https://food.example.org/"]
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PERFECT = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": STRICT_CSP,
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Set-Cookie": "__Host-csrftoken=abc; Path=/; Secure; HttpOnly; SameSite=Lax",
}
PAGE = "<!doctype html><html><head><title>t</title></head><body><p>hi</p></body></html>"


def page(headers: dict[str, str | list[str] | None], body: str = PAGE, url: str = URL):
    raw: list[tuple[str, str]] = []
    for name, value in headers.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            raw.append((name, item))
    return Response(url=url, status=200, headers=raw, body=body)


def test_algorithm_version_and_grade_table():
    assert observatory.ALGORITHM_VERSION == 6
    assert observatory.MINIMUM_SCORE_FOR_EXTRA_CREDIT == 90
    # Rounded down to a multiple of 5, capped at 100, floored at 0.
    assert grade_for(160) == (160, "A+")
    assert grade_for(100) == (100, "A+")
    assert grade_for(99) == (99, "A")
    assert grade_for(90) == (90, "A")
    assert grade_for(89) == (89, "A-")
    assert grade_for(84) == (84, "B+")
    assert grade_for(80) == (80, "B+")
    assert grade_for(79) == (79, "B")
    assert grade_for(65) == (65, "B-")
    assert grade_for(60) == (60, "C+")
    assert grade_for(45) == (45, "C-")
    assert grade_for(40) == (40, "D+")
    assert grade_for(25) == (25, "D-")
    assert grade_for(24) == (24, "F")
    assert grade_for(-15) == (0, "F")


def test_every_result_has_the_published_modifier():
    """A spot check of the table against charts.js, one row per test."""
    expected = {
        "csp-implemented-with-no-unsafe-default-src-none": 10,
        "csp-not-implemented": -25,
        "cookies-session-without-secure-flag": -40,
        "cross-origin-resource-sharing-implemented-with-universal-access": -50,
        "redirection-missing": -20,
        "referrer-policy-private": 5,
        "hsts-implemented-max-age-less-than-six-months": -10,
        "sri-not-implemented-and-external-scripts-not-loaded-securely": -50,
        "x-content-type-options-not-implemented": -5,
        "x-frame-options-not-implemented": -20,
        "corp-implemented-with-same-origin": 10,
        "coep-implemented-with-require-corp": 10,
        "coop-header-invalid": -5,
    }
    for result, modifier in expected.items():
        assert observatory.MODIFIERS[result] == modifier, result
    assert len(observatory.TEST_NAMES) == 12


def test_empty_header_set():
    """Nothing at all, and plain HTTP is not redirected: CSP -25, redirection -20, HSTS -20,
    X-Content-Type-Options -5, X-Frame-Options -20 = 10 (F)."""
    result = score(page({"Content-Type": "text/html"}), redirects=["http://food.example.org/"])
    assert (result.score, result.grade) == (10, "F"), result.table()
    assert result.result("redirection") == "redirection-missing"
    assert result.result("cookies") == "cookies-not-found"


def test_brief_like_set_without_hsts():
    """The brief's production settings: django-csp 3.7 defaults (default-src 'self'), Django's
    default X-Frame-Options/nosniff/Referrer-Policy/COOP, SSL redirect, no HSTS.
    Penalties: HSTS -20, so 80 < 90 and the bonuses (CSP +5, XFO +5, RP +5, COOP +10) are
    dropped: 80, B+."""
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": "default-src 'self'",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    result = score(page(headers), redirects=REDIRECTS)
    assert (result.score, result.grade, result.uncurved) == (80, "B+", 80), result.table()
    assert result.result("strict-transport-security") == "hsts-not-implemented"
    assert result.result("content-security-policy") == "csp-implemented-with-no-unsafe"

    # The same with a one-year HSTS header: no penalty, so every bonus counts: 125, A+.
    headers["Strict-Transport-Security"] = "max-age=31536000"
    result = score(page(headers), redirects=REDIRECTS)
    assert (result.score, result.grade) == (125, "A+"), result.table()


def test_perfect_set():
    result = score(page(PERFECT), redirects=REDIRECTS)
    assert (result.score, result.grade, result.uncurved) == (155, "A+", 100), result.table()
    assert all(test.passed for test in result.tests.values()), result.table()
    assert result.accepted_status


@dataclass
class Case:
    id: str
    change: dict[str, str | list[str] | None] = field(default_factory=dict)
    test: str = ""
    result: str = ""
    modifier: int = 0
    score: int = 0
    body: str = PAGE
    url: str = URL
    redirects: list[str] | None = field(default_factory=lambda: list(REDIRECTS))
    cors: dict[str, str] | None = None
    preload: dict[str, bool] | None = None


NO_FRAME_ANCESTORS = STRICT_CSP.replace("; frame-ancestors 'none'", "")
ORIGIN = observatory.DEFAULT_CORS_ORIGIN

CASES = [
    # content-security-policy (perfect: +10)
    Case(
        "csp-default-self",
        {"Content-Security-Policy": STRICT_CSP.replace("default-src 'none'", "default-src 'self'")},
        "content-security-policy",
        "csp-implemented-with-no-unsafe",
        5,
        150,
    ),
    Case(
        "csp-unsafe-inline-style",
        {
            "Content-Security-Policy": STRICT_CSP.replace(
                "style-src 'self'", "style-src 'self' 'unsafe-inline'"
            )
        },
        "content-security-policy",
        "csp-implemented-with-unsafe-inline-in-style-src-only",
        0,
        145,
    ),
    Case(
        "csp-http-images",
        {
            "Content-Security-Policy": STRICT_CSP.replace(
                "img-src 'self'", "img-src http://cdn.example.org"
            )
        },
        "content-security-policy",
        "csp-implemented-with-insecure-scheme-in-passive-content-only",
        -10,
        135,  # uncurved 90: bonuses still count, 155 - 10 - 10
    ),
    Case(
        "csp-unsafe-eval",
        {
            "Content-Security-Policy": STRICT_CSP.replace(
                "script-src 'self'", "script-src 'self' 'unsafe-eval'"
            )
        },
        "content-security-policy",
        "csp-implemented-with-unsafe-eval",
        -10,
        135,
    ),
    Case(
        "csp-unsafe-inline-script",
        {
            "Content-Security-Policy": STRICT_CSP.replace(
                "script-src 'self'", "script-src 'self' 'unsafe-inline'"
            )
        },
        "content-security-policy",
        "csp-implemented-with-unsafe-inline",
        -20,
        80,  # uncurved 80 < 90: no bonuses
    ),
    Case(
        "csp-no-script-src-default-star",
        {"Content-Security-Policy": "default-src *; frame-ancestors 'none'"},
        "content-security-policy",
        "csp-implemented-with-unsafe-inline",
        -20,
        80,
    ),
    Case(
        "csp-http-connect",
        {"Content-Security-Policy": STRICT_CSP + "; connect-src http://api.example.org"},
        "content-security-policy",
        "csp-implemented-with-insecure-scheme",
        -20,
        80,
    ),
    Case(
        "csp-duplicate-directive",
        {"Content-Security-Policy": "default-src 'none'; default-src 'self'"},
        "content-security-policy",
        "csp-header-invalid",
        -25,
        75,
    ),
    Case(
        "csp-missing",
        {"Content-Security-Policy": None},
        "content-security-policy",
        "csp-not-implemented",
        -25,
        75,
    ),
    Case(
        "csp-report-only",
        {"Content-Security-Policy": None, "Content-Security-Policy-Report-Only": STRICT_CSP},
        "content-security-policy",
        "csp-not-implemented-but-reporting-enabled",
        -25,
        75,
    ),
    Case(
        "csp-duplicate-report-uri",
        {"Content-Security-Policy": STRICT_CSP + "; report-uri /a; report-uri /b"},
        "content-security-policy",
        "csp-implemented-but-duplicate-directives",
        0,
        145,
    ),
    Case(
        "csp-strict-dynamic-without-nonce",
        {
            "Content-Security-Policy": STRICT_CSP.replace(
                "script-src 'self'", "script-src 'strict-dynamic'"
            )
        },
        "content-security-policy",
        "csp-header-invalid",
        -25,
        75,
    ),
    Case(
        "csp-nonce-cancels-unsafe-inline",
        {
            "Content-Security-Policy": STRICT_CSP.replace(
                "script-src 'self'", "script-src 'nonce-abc' 'unsafe-inline'"
            )
        },
        "content-security-policy",
        "csp-implemented-with-no-unsafe-default-src-none",
        10,
        155,
    ),
    Case(
        "csp-in-meta-only",
        {"Content-Security-Policy": None},
        "content-security-policy",
        "csp-implemented-with-no-unsafe-default-src-none",
        10,
        155,
        body=(
            '<html><head><meta http-equiv="Content-Security-Policy" '
            "content=\"default-src 'none'; frame-ancestors 'none'\"></head></html>"
        ),
    ),
    # cookies (perfect: +5)
    Case("cookies-none", {"Set-Cookie": None}, "cookies", "cookies-not-found", 0, 150),
    Case(
        "cookies-csrf-without-samesite",
        {"Set-Cookie": "csrftoken=a; Path=/; Secure"},
        "cookies",
        "cookies-anticsrf-without-samesite-flag",
        -20,
        80,
    ),
    Case(
        "cookies-other-without-samesite",
        {"Set-Cookie": "prefs=a; Path=/; Secure"},
        "cookies",
        "cookies-secure-with-httponly-sessions",
        0,
        150,
    ),
    Case(
        "cookies-not-secure-under-hsts",
        {"Set-Cookie": "prefs=a; Path=/; SameSite=Lax"},
        "cookies",
        "cookies-without-secure-flag-but-protected-by-hsts",
        -5,
        145,
    ),
    Case(
        "cookies-session-not-httponly",
        {"Set-Cookie": "sessionid=a; Path=/; Secure; SameSite=Lax"},
        "cookies",
        "cookies-session-without-httponly-flag",
        -30,
        70,
    ),
    Case(
        "cookies-session-not-secure-under-hsts",
        {"Set-Cookie": "sessionid=a; Path=/; HttpOnly; SameSite=Lax"},
        "cookies",
        "cookies-session-without-secure-flag-but-protected-by-hsts",
        -10,
        140,
    ),
    Case(
        "cookies-session-not-secure-no-hsts",
        {
            "Set-Cookie": "sessionid=a; Path=/; HttpOnly; SameSite=Lax",
            "Strict-Transport-Security": None,
        },
        "cookies",
        "cookies-session-without-secure-flag",
        -40,
        40,  # HSTS -20 as well: 100 - 40 - 20
    ),
    Case(
        "cookies-samesite-invalid",
        {"Set-Cookie": "prefs=a; Path=/; Secure; SameSite=Sometimes"},
        "cookies",
        "cookies-samesite-flag-invalid",
        -20,
        80,
    ),
    Case(
        "cookies-host-prefix-with-domain-is-dropped",
        {"Set-Cookie": "__Host-csrftoken=a; Path=/; Domain=example.org; Secure; SameSite=Lax"},
        "cookies",
        "cookies-not-found",
        0,
        150,
    ),
    # cross-origin-embedder-policy (perfect: +10)
    Case(
        "coep-credentialless",
        {"Cross-Origin-Embedder-Policy": "credentialless"},
        "cross-origin-embedder-policy",
        "coep-implemented-with-credentialless",
        10,
        155,
    ),
    Case(
        "coep-with-parameter",
        {"Cross-Origin-Embedder-Policy": 'require-corp; report-to="coep"'},
        "cross-origin-embedder-policy",
        "coep-implemented-with-require-corp",
        10,
        155,
    ),
    Case(
        "coep-unsafe-none",
        {"Cross-Origin-Embedder-Policy": "unsafe-none"},
        "cross-origin-embedder-policy",
        "coep-implemented-with-unsafe-none",
        0,
        145,
    ),
    Case(
        "coep-invalid",
        {"Cross-Origin-Embedder-Policy": '"require-corp"'},
        "cross-origin-embedder-policy",
        "coep-header-invalid",
        -5,
        140,
    ),
    Case(
        "coep-missing",
        {"Cross-Origin-Embedder-Policy": None},
        "cross-origin-embedder-policy",
        "coep-not-implemented",
        0,
        145,
    ),
    # cross-origin-opener-policy (perfect: +10)
    Case(
        "coop-allow-popups",
        {"Cross-Origin-Opener-Policy": "same-origin-allow-popups"},
        "cross-origin-opener-policy",
        "coop-implemented-with-same-origin-allow-popups",
        10,
        155,
    ),
    Case(
        "coop-unsafe-none",
        {"Cross-Origin-Opener-Policy": "unsafe-none"},
        "cross-origin-opener-policy",
        "coop-implemented-with-unsafe-none",
        0,
        145,
    ),
    Case(
        "coop-twice",
        {"Cross-Origin-Opener-Policy": ["same-origin", "same-origin"]},
        "cross-origin-opener-policy",
        "coop-header-invalid",
        -5,
        140,
    ),
    # cross-origin-resource-sharing (perfect: 0)
    Case(
        "cors-public",
        cors={"Access-Control-Allow-Origin": "*"},
        test="cross-origin-resource-sharing",
        result="cross-origin-resource-sharing-implemented-with-public-access",
        modifier=0,
        score=155,
    ),
    Case(
        "cors-restricted",
        cors={"Access-Control-Allow-Origin": "https://partner.example.net"},
        test="cross-origin-resource-sharing",
        result="cross-origin-resource-sharing-implemented-with-restricted-access",
        modifier=0,
        score=155,
    ),
    Case(
        "cors-reflected-with-credentials",
        cors={"Access-Control-Allow-Origin": ORIGIN, "Access-Control-Allow-Credentials": "true"},
        test="cross-origin-resource-sharing",
        result="cross-origin-resource-sharing-implemented-with-universal-access",
        modifier=-50,
        score=50,
    ),
    # redirection (perfect: 0)
    Case(
        "redirection-no-http",
        redirects=None,
        test="redirection",
        result="redirection-not-needed-no-http",
        modifier=0,
        score=155,
    ),
    Case(
        "redirection-missing",
        redirects=["http://food.example.org/"],
        test="redirection",
        result="redirection-missing",
        modifier=-20,
        score=80,
    ),
    Case(
        "redirection-http-first",
        redirects=["http://food.example.org/", "http://www.food.example.org/", URL],
        test="redirection",
        result="redirection-not-to-https-on-initial-redirection",
        modifier=-10,
        score=145,
    ),
    Case(
        "redirection-off-host",
        redirects=["http://food.example.org/", "https://www.food.example.org/"],
        test="redirection",
        result="redirection-off-host-from-http",
        modifier=-5,
        score=150,
    ),
    Case(
        "redirection-never-https",
        redirects=["http://food.example.org/", "http://www.food.example.org/"],
        test="redirection",
        result="redirection-not-to-https",
        modifier=-20,
        score=80,
    ),
    Case(
        "hsts-and-redirects-preloaded",
        preload={"org": True},
        test="strict-transport-security",
        result="hsts-preloaded",
        modifier=5,
        score=160,  # HSTS +5; redirection "all preloaded" is 0
    ),
    # referrer-policy (perfect: +5)
    Case(
        "referrer-missing",
        {"Referrer-Policy": None},
        "referrer-policy",
        "referrer-policy-not-implemented",
        0,
        150,
    ),
    Case(
        "referrer-unsafe",
        {"Referrer-Policy": "unsafe-url"},
        "referrer-policy",
        "referrer-policy-unsafe",
        -5,
        145,
    ),
    Case(
        "referrer-invalid",
        {"Referrer-Policy": "nobody"},
        "referrer-policy",
        "referrer-policy-header-invalid",
        -5,
        145,
    ),
    Case(
        "referrer-last-valid-wins",
        {"Referrer-Policy": "unsafe-url, no-referrer, bogus"},
        "referrer-policy",
        "referrer-policy-private",
        5,
        155,
    ),
    Case(
        "referrer-meta-overrides",
        {},
        "referrer-policy",
        "referrer-policy-unsafe",
        -5,
        145,
        body='<html><head><meta name="referrer" content="unsafe-url"></head></html>',
    ),
    # strict-transport-security (perfect: 0)
    Case(
        "hsts-one-day",
        {"Strict-Transport-Security": "max-age=86400"},
        "strict-transport-security",
        "hsts-implemented-max-age-less-than-six-months",
        -10,
        145,
    ),
    Case(
        "hsts-180-days",
        {"Strict-Transport-Security": "max-age=15552000"},
        "strict-transport-security",
        "hsts-implemented-max-age-at-least-six-months",
        0,
        155,
    ),
    Case(
        "hsts-a-second-short",
        {"Strict-Transport-Security": "max-age=15551999"},
        "strict-transport-security",
        "hsts-implemented-max-age-less-than-six-months",
        -10,
        145,
    ),
    Case(
        "hsts-missing",
        {"Strict-Transport-Security": None},
        "strict-transport-security",
        "hsts-not-implemented",
        -20,
        80,
    ),
    Case(
        "hsts-no-max-age",
        {"Strict-Transport-Security": "includeSubDomains"},
        "strict-transport-security",
        "hsts-header-invalid",
        -20,
        80,
    ),
    Case(
        "hsts-twice",
        {"Strict-Transport-Security": ["max-age=31536000", "max-age=31536000"]},
        "strict-transport-security",
        "hsts-header-invalid",
        -20,
        80,
    ),
    # subresource-integrity (perfect page has no script: 0)
    Case(
        "sri-local-script-with-integrity",
        {},
        "subresource-integrity",
        "sri-implemented-and-all-scripts-loaded-securely",
        5,
        160,
        body='<html><script src="/static/a.js" integrity="sha384-x"></script></html>',
    ),
    Case(
        "sri-local-script",
        {},
        "subresource-integrity",
        "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
        0,
        155,
        body='<html><script src="/static/a.js"></script></html>',
    ),
    Case(
        "sri-external-https-without-integrity",
        {},
        "subresource-integrity",
        "sri-not-implemented-but-external-scripts-loaded-securely",
        -5,
        150,
        body='<html><script src="https://cdn.other.net/a.js"></script></html>',
    ),
    Case(
        "sri-external-https-with-integrity",
        {},
        "subresource-integrity",
        "sri-implemented-and-external-scripts-loaded-securely",
        5,
        160,
        body='<html><script src="https://cdn.other.net/a.js" integrity="sha384-x"></script></html>',
    ),
    Case(
        "sri-external-http",
        {},
        "subresource-integrity",
        "sri-not-implemented-and-external-scripts-not-loaded-securely",
        -50,
        50,
        body='<html><script src="http://cdn.other.net/a.js"></script></html>',
    ),
    Case(
        "sri-not-html",
        {"Content-Type": "application/json"},
        "subresource-integrity",
        "sri-not-implemented-response-not-html",
        0,
        155,
        body='{"a": "<script src=http://x.net/a.js></script>"}',
    ),
    # x-content-type-options (perfect: 0)
    Case(
        "xcto-missing",
        {"X-Content-Type-Options": None},
        "x-content-type-options",
        "x-content-type-options-not-implemented",
        -5,
        150,
    ),
    Case(
        "xcto-twice",
        {"X-Content-Type-Options": ["nosniff", "nosniff"]},
        "x-content-type-options",
        "x-content-type-options-header-invalid",
        -5,
        150,
    ),
    # x-frame-options (perfect: +5 via CSP frame-ancestors)
    Case(
        "xfo-header-only",
        {"Content-Security-Policy": NO_FRAME_ANCESTORS},
        "x-frame-options",
        "x-frame-options-sameorigin-or-deny",
        5,
        155,
    ),
    Case(
        "xfo-allow-from",
        {
            "Content-Security-Policy": NO_FRAME_ANCESTORS,
            "X-Frame-Options": "ALLOW-FROM https://a.b",
        },
        "x-frame-options",
        "x-frame-options-allow-from-origin",
        0,
        150,
    ),
    Case(
        "xfo-missing",
        {"Content-Security-Policy": NO_FRAME_ANCESTORS, "X-Frame-Options": None},
        "x-frame-options",
        "x-frame-options-not-implemented",
        -20,
        80,
    ),
    Case(
        "xfo-invalid",
        {"Content-Security-Policy": NO_FRAME_ANCESTORS, "X-Frame-Options": "never"},
        "x-frame-options",
        "x-frame-options-header-invalid",
        -20,
        80,
    ),
    Case(
        "xfo-csp-wins-over-bad-header",
        {"X-Frame-Options": "never"},
        "x-frame-options",
        "x-frame-options-implemented-via-csp",
        5,
        155,
    ),
    # cross-origin-resource-policy (perfect: +10)
    Case(
        "corp-same-site",
        {"Cross-Origin-Resource-Policy": "same-site"},
        "cross-origin-resource-policy",
        "corp-implemented-with-same-site",
        10,
        155,
    ),
    Case(
        "corp-cross-origin",
        {"Cross-Origin-Resource-Policy": "cross-origin"},
        "cross-origin-resource-policy",
        "corp-implemented-with-cross-origin",
        0,
        145,
    ),
    Case(
        "corp-invalid",
        {"Cross-Origin-Resource-Policy": "same"},
        "cross-origin-resource-policy",
        "corp-header-invalid",
        -5,
        140,
    ),
    Case(
        "corp-missing",
        {"Cross-Origin-Resource-Policy": None},
        "cross-origin-resource-policy",
        "corp-not-implemented",
        0,
        145,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_modifier(case: Case):
    cors = None
    if case.cors is not None:
        cors = Response(url=URL, headers=list(case.cors.items()))
    result = score(
        page({**PERFECT, **case.change}, body=case.body, url=case.url),
        redirects=case.redirects,
        cors=cors,
        hsts_preload=case.preload,
    )
    test = result.tests[case.test]
    assert (test.result, test.modifier) == (case.result, case.modifier), result.table()
    assert result.score == case.score, result.table()


def test_extra_credit_needs_90_before_bonuses():
    """Two penalties adding to -15 (no nosniff -5, HSTS of a day -10): uncurved 85, so the 55
    points of bonuses are dropped: 85, A-."""
    headers = {
        **PERFECT,
        "X-Content-Type-Options": None,
        "Strict-Transport-Security": "max-age=86400",
    }
    result = score(page(headers), redirects=REDIRECTS)
    assert (result.score, result.grade, result.uncurved) == (85, "A-", 85), result.table()


def test_status_outside_what_the_scanner_grades_is_flagged():
    not_found = page(PERFECT)
    not_found.status = 404
    assert not score(not_found, redirects=REDIRECTS).accepted_status
    forbidden = page(PERFECT)
    forbidden.status = 403
    assert score(forbidden, redirects=REDIRECTS).accepted_status


def test_cookies_from_other_responses_of_the_session_count():
    """The scanner's jar also holds cookies set by /robots.txt and the CORS request."""
    robots = Response(url=URL + "robots.txt", headers=[("Set-Cookie", "sessionid=x; Path=/")])
    result = score(
        page({**PERFECT, "Set-Cookie": None}), redirects=REDIRECTS, cookie_responses=[robots]
    )
    # Not Secure (HSTS on) and not HttpOnly: the worse of the two is "without HttpOnly", -30.
    assert result.result("cookies") == "cookies-session-without-httponly-flag"
    assert result.score == 70


# --------------------------------------------------------------------------- the generated site

ADMIN_LOGIN = "{admin}login/"  # site.at() puts in the bake's admin path
PAGES = {
    "home": ("/", 200),
    "admin-login": (ADMIN_LOGIN, 200),
    "not-found": ("/no-such-page/", 404),
}
SCORES: dict[tuple[str, str], int] = {}


@pytest.fixture(scope="module", params=COMBINATIONS, ids=IDS)
def server(request, get_prepared):
    """One real gunicorn per combination, with a migrated PostgreSQL database behind it."""
    with serve(get_prepared(request.param.id)) as running:
        yield running


REDIRECT_STATUSES = (301, 302, 303, 307, 308)


@dataclass
class Capture:
    """What the scanner fetches for a page: the page over HTTPS, the same URL over plain HTTP
    (it follows the redirect), /robots.txt and a CORS preflight (for cookies and CORS)."""

    path: str
    page: Response
    plain: Response
    robots: Response
    cors: Response

    @property
    def redirected(self) -> bool:
        return self.plain.status in REDIRECT_STATUSES

    def redirects(self) -> list[str]:
        """Return the URLs the plain-HTTP request went through, starting with its own."""
        if self.redirected:
            return [self.plain.url, self.plain.header("location") or ""]
        return [self.plain.url]

    def score(self) -> observatory.Score:
        return score(
            self.page,
            redirects=self.redirects(),
            cors=self.cors,
            cookie_responses=[self.robots, self.cors],
        )

    def for_upstream(self) -> dict:
        """Return the capture as tests/tools/observatory/analyze.mjs reads it."""

        def plain(response: Response) -> dict:
            return {
                "url": response.url,
                "status": response.status,
                "headers": [list(pair) for pair in response.headers],
                "body": response.body,
            }

        # The scanner's plain-HTTP session follows the redirect to the page itself.
        chain = [{"url": self.plain.url, "status": self.plain.status}]
        if self.redirected:
            chain.append({"url": self.plain.header("location") or "", "status": self.page.status})
        return {
            "hostname": self.page.url.split("/")[2],
            "path": self.path.lstrip("/"),
            "auto": plain(self.page),
            "http": plain(self.page if self.redirected else self.plain),
            "httpRedirects": chain,
            "cors": plain(self.cors),
            "cookies": [
                {"url": response.url, "header": header}
                for response in (self.page, self.robots, self.cors)
                for header in response.values("set-cookie")
            ],
        }


def capture(server: Server, path: str) -> Capture:
    """Fetch what the scanner fetches for ``path``."""
    return Capture(
        path=path,
        page=server.request(path),
        plain=server.request(path, https=False),
        robots=server.request("/robots.txt"),
        cors=server.request(
            path,
            method="OPTIONS",
            headers={
                "Origin": observatory.DEFAULT_CORS_ORIGIN,
                "Access-Control-Request-Method": "GET",
            },
        ),
    )


def scan(server: Server, path: str) -> tuple[Response, observatory.Score]:
    """Return the page and its score, as the scanner would fetch and grade it."""
    captured = capture(server, path)
    return captured.page, captured.score()


@pytest.mark.slow
@pytest.mark.parametrize("page_id", list(PAGES))
def test_site_scores_a_plus_with_extra_credit(server, page_id):
    path, status = PAGES[page_id]
    path = server.site.at(path)
    page, result = scan(server, path)
    assert page.status == status, server.site.hide(page.body[:2000])
    SCORES[(server.site.combination_id, page_id)] = result.score
    print(f"\n{server.site.combination_id} {path}: {result.score} {result.grade}\n{result.table()}")
    assert result.score >= 130, result.table()
    assert result.grade == "A+", result.table()
    assert result.result("redirection") == "redirection-to-https", result.table()
    assert result.result("content-security-policy") == (
        "csp-implemented-with-no-unsafe-default-src-none"
    ), result.table()
    failed = [name for name, test in result.tests.items() if not test.passed]
    assert not failed, result.table()


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0].lower(): part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.slow
def test_site_security_headers(server):
    """The issue's header list, read directly (not through the scorer)."""
    page = server.request("/")
    policy = page.header("content-security-policy") or ""
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, policy
    found = directives(policy)
    assert found.get("default-src") == ["'none'"], policy
    assert found.get("frame-ancestors") == ["'none'"], policy
    assert "base-uri" in found and "form-action" in found, policy
    for directive, sources in found.items():
        assert not {"*", "http:", "https:", "data:"} & set(sources) or directive == "img-src", (
            policy
        )
    hsts = page.header("strict-transport-security") or ""
    assert re.search(r"max-age=(\d+)", hsts) and int(re.search(r"max-age=(\d+)", hsts)[1]) >= (
        365 * 24 * 3600
    ), hsts
    assert "includesubdomains" in hsts.lower(), hsts
    assert page.header("cross-origin-opener-policy") == "same-origin"
    assert page.header("cross-origin-resource-policy") == "same-origin"
    assert page.header("cross-origin-embedder-policy") == "require-corp"
    assert page.header("referrer-policy") == "same-origin"
    assert page.header("x-content-type-options") == "nosniff"
    assert page.header("x-frame-options") == "DENY"
    # gunicorn names itself but no version; nothing else advertises software versions.
    server_header = page.header("server") or ""
    assert not re.search(r"\d", server_header), f"Server header shows a version: {server_header}"
    assert page.header("x-powered-by") is None

    # Static files (served by WhiteNoise) carry the isolation headers too.
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page.body)
    assert stylesheet, page.body[:2000]
    static = server.request(stylesheet[1])
    assert static.status == 200
    assert static.header("cross-origin-resource-policy") == "same-origin"
    assert static.header("x-content-type-options") == "nosniff"


@pytest.mark.slow
def test_site_cookies_after_admin_login(server):
    """CSRF and session cookies: Secure, HttpOnly, SameSite, and the __Host- prefix rules."""
    site = server.site
    password = site.create_superuser("observatory")
    login = site.login(site.edge(), "observatory", password, form_from=server.instance)
    answer = login.answer
    assert answer.status == 302, site.hide(f"{answer.status}\n{answer.text[:2000]}")
    cookies = [
        *login.form.headers.get_all("Set-Cookie", []),
        *answer.headers.get_all("Set-Cookie", []),
    ]
    assert login.form.headers.get_all("Set-Cookie"), "the login form set no CSRF cookie"
    names = sorted(header.split("=", 1)[0] for header in cookies)
    assert "__Host-sessionid" in names and "__Host-csrftoken" in names, names
    for header in cookies:
        cookie = observatory.parse_set_cookie(header)
        assert cookie is not None
        assert cookie.secure and cookie.http_only, cookie
        assert cookie.same_site in ("lax", "strict"), cookie
        assert cookie.name.startswith("__Host-"), cookie
        assert cookie.path == "/" and cookie.domain is None, cookie


# --------------------------------------------------------------------------- drift guard

UPSTREAM_DIR = TEMPLATE_DIR / "tests" / "tools" / "observatory"
UPSTREAM_PACKAGE = "@mdn/mdn-http-observatory"


@pytest.fixture(scope="session")
def upstream_analyzer() -> list[str]:
    """Return the command that grades a capture with upstream's analyzeScan().

    Installs tests/tools/observatory from its lock once (``npm ci --ignore-scripts``: the
    package's install script would download Chromium's HSTS preload list; an empty list stands
    in for it, as our scorer's default does, since a Railway domain's preload status is a fact
    about the browser list, not about the site).
    """
    manifest = json.loads((UPSTREAM_DIR / "package.json").read_text(encoding="utf-8"))
    pinned = manifest["dependencies"][UPSTREAM_PACKAGE]
    wanted = manifest["engines"]["node"]
    node = shutil.which("node")
    if node is None:
        pytest.skip(f"node is not installed: {UPSTREAM_PACKAGE} {pinned} needs node {wanted}")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < int(wanted.removeprefix(">=")):
        pytest.skip(
            f"node {version} is older than {UPSTREAM_PACKAGE} {pinned} allows (engines: node "
            f"{wanted}): only our scorer graded the site"
        )
    lock = UPSTREAM_DIR / "package-lock.json"
    if not lock.is_file():
        pytest.fail(
            f"{lock.relative_to(TEMPLATE_DIR)} is missing: run `npm install --ignore-scripts "
            f"--prefix tests/tools/observatory` with node {wanted} and commit the lock",
            pytrace=False,
        )
    installed = UPSTREAM_DIR / "node_modules" / UPSTREAM_PACKAGE
    with file_lock(CACHE_DIR / "observatory-npm.lock"):
        if not installed.is_dir():
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail(f"npm is needed to install {UPSTREAM_PACKAGE}", pytrace=False)
            proc = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix",
                 str(UPSTREAM_DIR)],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                pytest.fail(f"npm ci failed:\n{tail(proc.stdout + proc.stderr)}", pytrace=False)
        preload = installed / "conf" / "hsts-preload.json"
        if not preload.exists():
            preload.write_text("{}\n", encoding="utf-8")
    return [node, str(UPSTREAM_DIR / "analyze.mjs")]


def upstream_grade(command: list[str], captured: Capture) -> dict:
    """Return what upstream's analyzeScan() makes of the capture (or the error it raised)."""
    proc = subprocess.run(
        command,
        input=json.dumps(captured.for_upstream()),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, tail(proc.stdout + proc.stderr)
    return json.loads(proc.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("page_id", list(PAGES))
def test_upstream_analyzer_grades_the_same(server, page_id, upstream_analyzer):
    """Our scorer and upstream's analyzer agree on the same responses, test by test.

    Tests only our scorer knows (a newer algorithm than the release) are left out of the
    comparison, and the score compared is ours over the tests both know.
    """
    captured = capture(server, server.site.at(PAGES[page_id][0]))
    ours = captured.score()
    theirs = upstream_grade(upstream_analyzer, captured)
    if not ours.accepted_status:
        assert str(captured.page.status) in theirs.get("error", ""), theirs
        return
    assert "error" not in theirs, theirs
    assert set(theirs["tests"]) <= set(ours.tests), sorted(theirs["tests"])
    shared = [ours.tests[name] for name in theirs["tests"]]
    assert {test.name: test.result for test in shared} == {
        name: test["result"] for name, test in theirs["tests"].items()
    }
    raw, _ = total(shared)
    assert (theirs["score"], theirs["grade"]) == grade_for(raw), (
        f"{page_id}: upstream {theirs['score']} {theirs['grade']} (algorithm "
        f"{theirs['algorithmVersion']}), ours {grade_for(raw)}"
    )
