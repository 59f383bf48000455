"""A scorer for HTTP responses under the MDN HTTP Observatory scoring method.

Implements scoring algorithm version 6 as published in ``mdn/mdn-http-observatory`` (npm
package 1.6.3, commit 94042bbf of 2026-08-20): ``src/constants.js`` (ALGORITHM_VERSION = 6,
twelve tests), ``src/grader/charts.js`` (score modifiers, grade table, extra-credit threshold),
``src/scanner/index.js`` (how the modifiers add up) and the tests under ``src/analyzer/tests/``
(how each test picks its result). Written from reading that source, not translated line by line.

The score: start at 100 and add every test's modifier. Bonuses (positive modifiers) count only
when the score from the penalties alone is at least 90; otherwise the score is that uncurved
score. The grade is looked up for the score rounded down to a multiple of 5 (capped at 100, so
anything from 100 up is A+).

What the scanner fetches, and what a caller passes here instead:
- ``page``: the "auto" response (the HTTPS page after redirects) with its URL, headers and
  HTML body (for subresource integrity and ``<meta http-equiv>`` policies). HSTS is read from
  it too (the scanner reads the HTTPS response, which is the same page for a site that answers
  on HTTPS directly).
- ``redirects``: the chain of URLs the plain-HTTP request went through, starting with the
  ``http://`` URL itself (``None``: the site does not answer plain HTTP).
- ``cors``/``cors_origin``: the answer to the scanner's OPTIONS request sent with that Origin.
- ``cookie_responses``: further responses of the same session whose Set-Cookie headers land in
  the cookie jar (the scanner also fetches ``/robots.txt`` and makes the CORS request).
- ``hsts_preload``: the preload list, domain -> include-subdomains (empty by default: whether a
  host is preloaded is a fact about the browser list, not about the site's headers).

Differences from the scanner, all outside what a Django site's headers can influence: the
scanner refuses to grade a page whose status is not 2xx/3xx/401/403 (``accepted_status`` tells;
this scorer grades a 404 page's headers all the same); certificate validity is assumed; for SRI
a script's registrable domain is its host's last two labels (the scanner uses the public suffix
list); CSP sources are sorted by code point (the scanner uses an English collator).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

ALGORITHM_VERSION = 6
MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90

# charts.js GRADE_CHART: score rounded down to a multiple of 5 -> grade.
GRADE_CHART = {
    100: "A+",
    95: "A",
    90: "A",
    85: "A-",
    80: "B+",
    75: "B",
    70: "B",
    65: "B-",
    60: "C+",
    55: "C",
    50: "C",
    45: "C-",
    40: "D+",
    35: "D",
    30: "D",
    25: "D-",
    20: "F",
    15: "F",
    10: "F",
    5: "F",
    0: "F",
}

# charts.js SCORE_TABLE: result -> modifier.
MODIFIERS = {
    # content-security-policy
    "csp-implemented-with-no-unsafe-default-src-none": 10,
    "csp-implemented-with-no-unsafe": 5,
    "csp-implemented-with-unsafe-inline-in-style-src-only": 0,
    "csp-implemented-with-insecure-scheme-in-passive-content-only": -10,
    "csp-implemented-with-unsafe-eval": -10,
    "csp-implemented-with-unsafe-inline": -20,
    "csp-implemented-with-insecure-scheme": -20,
    "csp-header-invalid": -25,
    "csp-not-implemented": -25,
    "csp-not-implemented-but-reporting-enabled": -25,
    "csp-implemented-but-duplicate-directives": 0,
    # cookies
    "cookies-secure-with-httponly-sessions-and-samesite": 5,
    "cookies-secure-with-httponly-sessions": 0,
    "cookies-not-found": 0,
    "cookies-without-secure-flag-but-protected-by-hsts": -5,
    "cookies-session-without-secure-flag-but-protected-by-hsts": -10,
    "cookies-without-secure-flag": -20,
    "cookies-samesite-flag-invalid": -20,
    "cookies-anticsrf-without-samesite-flag": -20,
    "cookies-session-without-httponly-flag": -30,
    "cookies-session-without-secure-flag": -40,
    # cross-origin-resource-sharing
    "cross-origin-resource-sharing-not-implemented": 0,
    "cross-origin-resource-sharing-implemented-with-public-access": 0,
    "cross-origin-resource-sharing-implemented-with-restricted-access": 0,
    "cross-origin-resource-sharing-implemented-with-universal-access": -50,
    # redirection
    "redirection-all-redirects-preloaded": 0,
    "redirection-to-https": 0,
    "redirection-not-needed-no-http": 0,
    "redirection-off-host-from-http": -5,
    "redirection-not-to-https-on-initial-redirection": -10,
    "redirection-not-to-https": -20,
    "redirection-missing": -20,
    "redirection-invalid-cert": -20,
    # referrer-policy
    "referrer-policy-private": 5,
    "referrer-policy-not-implemented": 0,
    "referrer-policy-unsafe": -5,
    "referrer-policy-header-invalid": -5,
    # strict-transport-security
    "hsts-preloaded": 5,
    "hsts-implemented-max-age-at-least-six-months": 0,
    "hsts-implemented-max-age-less-than-six-months": -10,
    "hsts-not-implemented": -20,
    "hsts-header-invalid": -20,
    "hsts-not-implemented-no-https": -20,
    "hsts-invalid-cert": -20,
    # subresource-integrity
    "sri-implemented-and-all-scripts-loaded-securely": 5,
    "sri-implemented-and-external-scripts-loaded-securely": 5,
    "sri-not-implemented-response-not-html": 0,
    "sri-not-implemented-but-no-scripts-loaded": 0,
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": 0,
    "sri-not-implemented-but-external-scripts-loaded-securely": -5,
    "sri-implemented-but-external-scripts-not-loaded-securely": -20,
    "sri-not-implemented-and-external-scripts-not-loaded-securely": -50,
    "html-not-parseable": -20,
    # x-content-type-options
    "x-content-type-options-nosniff": 0,
    "x-content-type-options-not-implemented": -5,
    "x-content-type-options-header-invalid": -5,
    # x-frame-options
    "x-frame-options-implemented-via-csp": 5,
    "x-frame-options-sameorigin-or-deny": 5,
    "x-frame-options-allow-from-origin": 0,
    "x-frame-options-not-implemented": -20,
    "x-frame-options-header-invalid": -20,
    # cross-origin-resource-policy
    "corp-header-invalid": -5,
    "corp-implemented-with-cross-origin": 0,
    "corp-implemented-with-same-origin": 10,
    "corp-implemented-with-same-site": 10,
    "corp-not-implemented": 0,
    # cross-origin-embedder-policy
    "coep-implemented-with-require-corp": 10,
    "coep-implemented-with-credentialless": 10,
    "coep-implemented-with-unsafe-none": 0,
    "coep-not-implemented": 0,
    "coep-header-invalid": -5,
    # cross-origin-opener-policy
    "coop-implemented-with-same-origin": 10,
    "coop-implemented-with-same-origin-allow-popups": 10,
    "coop-implemented-with-noopener-allow-popups": 10,
    "coop-implemented-with-unsafe-none": 0,
    "coop-not-implemented": 0,
    "coop-header-invalid": -5,
}

TEST_NAMES = (
    "content-security-policy",
    "cookies",
    "cross-origin-embedder-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-sharing",
    "redirection",
    "referrer-policy",
    "strict-transport-security",
    "subresource-integrity",
    "x-content-type-options",
    "x-frame-options",
    "cross-origin-resource-policy",
)

DEFAULT_CORS_ORIGIN = "https://http-observatory.security.mozilla.org"
HTML_TYPES = {"text/html", "application/xhtml+xml"}

# Node's HTTP client keeps only the first of these when a response repeats them; every other
# repeated header (except Set-Cookie) reaches the scanner joined with ", ".
_FIRST_ONLY_HEADERS = {
    "age",
    "authorization",
    "content-length",
    "content-type",
    "etag",
    "expires",
    "from",
    "host",
    "if-modified-since",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "proxy-authorization",
    "referer",
    "retry-after",
    "server",
    "user-agent",
}


# --------------------------------------------------------------------------- inputs


@dataclass
class Response:
    """One HTTP response: its URL, status, raw headers (repeats allowed) and body."""

    url: str
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""

    def values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def header(self, name: str) -> str | None:
        """The header as the scanner's HTTP client presents it (repeats joined or dropped)."""
        values = self.values(name)
        if not values:
            return None
        if name.lower() in _FIRST_ONLY_HEADERS:
            return values[0]
        return ", ".join(values)


@dataclass
class TestResult:
    name: str
    result: str
    passed: bool

    @property
    def modifier(self) -> int:
        return MODIFIERS[self.result]


@dataclass
class Score:
    score: int
    grade: str
    uncurved: int
    tests: dict[str, TestResult]
    accepted_status: bool

    def result(self, name: str) -> str:
        return self.tests[name].result

    def table(self) -> str:
        lines = [f"{name:32} {t.modifier:+4d}  {t.result}" for name, t in self.tests.items()]
        return "\n".join([*lines, f"{'score':32} {self.score:4d}  {self.grade}"])


# --------------------------------------------------------------------------- grading


def grade_for(score: int) -> tuple[int, str]:
    """Return (score floored at 0, grade) as grader.js getGradeForScore gives them."""
    score = max(score, 0)
    key = min(score - score % 5, 100)
    return score, GRADE_CHART[key]


def total(results: Iterable[TestResult]) -> tuple[int, int]:
    """Return (score, uncurved score): bonuses count only when the penalties leave 90 or more."""
    with_extra_credit = uncurved = 100
    for test in results:
        with_extra_credit += test.modifier
        if test.modifier < 0:
            uncurved += test.modifier
    if uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT:
        return with_extra_credit, uncurved
    return uncurved, uncurved


def score(
    page: Response,
    *,
    redirects: list[str] | None = None,
    cors: Response | None = None,
    cors_origin: str = DEFAULT_CORS_ORIGIN,
    cookie_responses: Iterable[Response] = (),
    hsts_preload: Mapping[str, bool] | None = None,
) -> Score:
    """Return the score of one page, graded as the Observatory grades a site's front page."""
    preload = dict(hsts_preload or {})
    meta = _meta_policies(page)
    tests = [
        _csp_test(page, meta),
        _cookies_test(page, cookie_responses, preload),
        _structured_policy_test(page, "cross-origin-embedder-policy", "coep", _COEP_VALUES),
        _structured_policy_test(page, "cross-origin-opener-policy", "coop", _COOP_VALUES),
        _cors_test(cors, cors_origin),
        _redirection_test(redirects, preload),
        _referrer_test(page, meta),
        _hsts_test(page, preload),
        _sri_test(page),
        _xcto_test(page),
        _xfo_test(page, meta),
        _corp_test(page),
    ]
    raw, uncurved = total(tests)
    final, grade = grade_for(raw)
    accepted = 200 <= page.status < 400 or page.status in (401, 403)
    return Score(final, grade, uncurved, {t.name: t for t in tests}, accepted)


# --------------------------------------------------------------------------- HTML


class _ElementCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str | None]] = []
        self.metas: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        elif tag == "meta":
            self.metas.append(dict(attrs))

    handle_startendtag = handle_starttag


def _collect(html: str) -> _ElementCollector:
    collector = _ElementCollector()
    collector.feed(html)
    collector.close()
    return collector


def _is_html(page: Response) -> bool:
    mime = (page.header("content-type") or "").split(";", 1)[0]
    return mime in HTML_TYPES


def _meta_policies(page: Response) -> dict[str, list[str]]:
    """<meta http-equiv="content-security-policy"> and <meta name="referrer"> of an HTML page."""
    found: dict[str, list[str]] = {"content-security-policy": []}
    if not _is_html(page) or not page.body:
        return found
    for meta in _collect(page.body).metas:
        if "http-equiv" in meta and "content" in meta:
            equiv = (meta["http-equiv"] or "").lower().strip()
            if meta["content"] and equiv == "content-security-policy":
                found["content-security-policy"].append(meta["content"])
        elif (meta.get("name") or "").lower().strip() == "referrer" and meta.get("content"):
            found["referrer-policy"] = [meta["content"] or ""]
    return found


# --------------------------------------------------------------------------- CSP

_DANGEROUSLY_BROAD = {
    "ftp:",
    "http:",
    "https:",
    "*",
    "http://*",
    "http://*.*",
    "https://*",
    "https://*.*",
}
_UNSAFE_INLINE = {"'unsafe-inline'", "data:"}
_BROAD_OR_INLINE = _DANGEROUSLY_BROAD | _UNSAFE_INLINE
_PASSIVE_DIRECTIVES = ("img-src", "media-src")
_NONCE_HASH_PREFIXES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")
_DISALLOWED_IN_META = ("frame-ancestors", "report-uri", "sandbox")
_ALLOWED_DUPLICATES = {"report-uri", "report-to"}
_DUPLICATES_KEY = "_duplicate_directives"
_SHORTEST_POLICY = len("img-src") - 1


class InvalidPolicy(ValueError):
    pass


@dataclass
class _Source:
    source: str
    index: int
    keep: bool


def _strict_unquote(text: str) -> str:
    """decodeURIComponent: raises on a malformed %-escape or invalid UTF-8."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", text):
        raise InvalidPolicy(f"malformed escape in {text!r}")
    raw = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)
    try:
        return raw.encode("latin-1", "surrogatepass").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        if raw == text:
            return text
        raise InvalidPolicy(f"malformed escape in {text!r}") from None


def _path_part_match(a: str, b: str) -> bool:
    if not a:
        return True
    if a == "/" and not b:
        return True
    exact = not a.endswith("/")
    parts_a, parts_b = a.split("/"), b.split("/")
    if len(parts_a) > len(parts_b):
        return False
    if exact and len(parts_a) != len(parts_b):
        return False
    if not exact:
        parts_a.pop()
    return all(
        _strict_unquote(x) == _strict_unquote(y) for x, y in zip(parts_a, parts_b, strict=False)
    )


def parse_csp(policies: list[str]) -> dict[str, set[str]]:
    """Directive -> sources for one or more policies (cspParser.js parseCsp).

    Raises InvalidPolicy for an empty or too short policy, or a repeated directive (other than
    report-uri/report-to, which are noted under _DUPLICATES_KEY). With several policies, a
    directive keeps only the sources every policy that names it allows.
    """
    clean = [re.sub(r"[\r\n]", "", policy).strip() for policy in policies]
    if not clean:
        return {}
    for policy in clean:
        if not policy or len(policy) < _SHORTEST_POLICY:
            raise InvalidPolicy(f"invalid policy {policy!r}")
    merged: dict[str, list[_Source]] = {}
    duplicates: set[str] = set()
    for index, policy in enumerate(clean):
        seen: set[str] = set()
        for entry in policy.split(";"):
            tokens = entry.strip().split()
            if not tokens:
                continue
            directive = tokens[0].lower()
            if directive in seen:
                if directive not in _ALLOWED_DUPLICATES:
                    raise InvalidPolicy(f"duplicate directive {directive} in policy {index}")
                duplicates.add(directive)
            else:
                seen.add(directive)
            keep = index == 0
            values = [_Source(token.strip().lower(), index, keep) for token in tokens[1:]]
            if not values and directive.endswith("-src"):
                values = [_Source("'none'", index, keep)]
            combined = values if index == 0 else [*merged.get(directive, []), *values]
            combined.sort(key=lambda s: s.source)
            for previous, current in zip(combined, combined[1:], strict=False):
                if current.index == previous.index and current.source.startswith(previous.source):
                    current.keep = False
                if current.index != previous.index and _path_part_match(
                    previous.source, current.source
                ):
                    current.keep = True
            merged[directive] = [s for s in combined if s.keep]
            if index == 0 and len(policies) > 1:
                for source in merged[directive]:
                    source.keep = False
    result = {
        directive: ({s.source for s in sources} if sources else {"'none'"})
        for directive, sources in merged.items()
    }
    if duplicates:
        result[_DUPLICATES_KEY] = duplicates
    return result


def _split_policies(values: Iterable[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",")]


@dataclass
class CspAnalysis:
    result: str
    passed: bool
    data: dict[str, set[str]] | None = None


def analyze_csp(page: Response, meta: dict[str, list[str]]) -> CspAnalysis:
    """The content-security-policy test (analyzer/tests/csp.js)."""
    header_value = page.header("content-security-policy")
    http_policies = _split_policies([header_value] if header_value is not None else [])
    meta_policies = _split_policies(meta.get("content-security-policy", []))
    try:
        csp = parse_csp(http_policies + meta_policies)
    except InvalidPolicy:
        return CspAnalysis("csp-header-invalid", False)
    try:
        header_only = parse_csp(http_policies)
    except InvalidPolicy:
        header_only = {}
    try:
        meta_only = parse_csp(meta_policies)
        for directive in _DISALLOWED_IN_META:
            meta_only.pop(directive, None)
    except InvalidPolicy:
        meta_only = {}
    if not header_only and not meta_only:
        if page.header("content-security-policy-report-only"):
            return CspAnalysis("csp-not-implemented-but-reporting-enabled", False)
        return CspAnalysis("csp-not-implemented", False)

    def first(*names: str) -> set[str]:
        for name in names:
            if name in csp:
                return csp[name]
        return {"*"}

    object_src = first("object-src", "default-src")
    script_src = first("script-src", "default-src")
    style_src = first("style-src", "default-src")
    result: str | None = None

    # A nonce or hash makes browsers ignore 'unsafe-inline' (the sets are shared with csp).
    for sources in (script_src, style_src):
        if any(s.startswith(_NONCE_HASH_PREFIXES) for s in sources):
            sources.discard("'unsafe-inline'")
    if any(s.startswith(_NONCE_HASH_PREFIXES) for s in script_src) and (
        "'strict-dynamic'" in script_src
    ):
        for source in list(script_src):
            if any(source.startswith(broad) for broad in _DANGEROUSLY_BROAD) or source in (
                "'self'",
                "'unsafe-inline'",
            ):
                script_src.discard(source)
    elif "'strict-dynamic'" in script_src:
        result = "csp-header-invalid"

    active = [
        source
        for directive, sources in csp.items()
        if directive not in _PASSIVE_DIRECTIVES and directive != "script-src"
        for source in sources
    ] + list(script_src)
    passive = [
        source
        for directive in _PASSIVE_DIRECTIVES
        for source in csp.get(directive) or csp.get("default-src") or set()
    ]
    https = urlsplit(page.url).scheme == "https"

    def insecure(sources: list[str]) -> bool:
        return https and any(s.startswith(("http:", "ftp:")) for s in sources)

    checks = [
        (
            bool(script_src & _BROAD_OR_INLINE) or bool(object_src & _DANGEROUSLY_BROAD),
            "csp-implemented-with-unsafe-inline",
        ),
        (insecure(active), "csp-implemented-with-insecure-scheme"),
        ("'unsafe-eval'" in (script_src | style_src), "csp-implemented-with-unsafe-eval"),
        (insecure(passive), "csp-implemented-with-insecure-scheme-in-passive-content-only"),
        (
            bool(style_src & _BROAD_OR_INLINE),
            "csp-implemented-with-unsafe-inline-in-style-src-only",
        ),
        (csp.get("default-src") == {"'none'"}, "csp-implemented-with-no-unsafe-default-src-none"),
        (True, "csp-implemented-with-no-unsafe"),
    ]
    for condition, outcome in checks:
        if condition and result is None:
            result = outcome
    assert result is not None
    passed = result in (
        "csp-implemented-with-no-unsafe",
        "csp-implemented-with-no-unsafe-default-src-none",
        "csp-implemented-with-unsafe-inline-in-style-src-only",
        "csp-implemented-with-insecure-scheme-in-passive-content-only",
    )
    if passed and _DUPLICATES_KEY in csp:
        result = "csp-implemented-but-duplicate-directives"
    data = {k: v for k, v in csp.items() if k != _DUPLICATES_KEY}
    return CspAnalysis(result, passed, data)


def _csp_test(page: Response, meta: dict[str, list[str]]) -> TestResult:
    analysis = analyze_csp(page, meta)
    return TestResult("content-security-policy", analysis.result, analysis.passed)


# --------------------------------------------------------------------------- cookies


@dataclass
class Cookie:
    name: str
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None
    domain: str | None = None
    path: str | None = None
    expired: bool = False


def parse_set_cookie(header: str) -> Cookie | None:
    """One Set-Cookie header as a cookie jar reads it (None for a nameless cookie)."""
    parts = header.split(";")
    name = parts[0].split("=", 1)[0].strip() if "=" in parts[0] else ""
    if not name:
        return None
    cookie = Cookie(name)
    for attribute in parts[1:]:
        key, _, value = attribute.partition("=")
        key, value = key.strip().lower(), value.strip()
        if key == "secure":
            cookie.secure = True
        elif key == "httponly":
            cookie.http_only = True
        elif key == "samesite":
            cookie.same_site = value.lower() if value.lower() in ("strict", "lax", "none") else None
        elif key == "domain" and value:
            cookie.domain = value.lstrip(".").lower()
        elif key == "path" and value.startswith("/"):
            cookie.path = value
        elif key == "max-age" and re.fullmatch(r"-?\d+", value):
            cookie.expired = int(value) <= 0
    return cookie


def _invalid_same_site(header: str) -> bool:
    for part in header.strip().split(";"):
        key, *rest = part.strip().split("=")
        if key.strip().lower() == "samesite":
            value = rest[0] if rest else ""
            if not value or value.strip().lower() not in ("lax", "strict", "none"):
                return True
    return False


def _prefix_rules_met(cookie: Cookie) -> bool:
    """A jar drops __Secure- cookies without Secure and __Host- cookies not locked to the host."""
    if cookie.name.startswith("__Secure-") and not cookie.secure:
        return False
    if cookie.name.startswith("__Host-"):
        return cookie.secure and cookie.domain is None and cookie.path == "/"
    return True


def cookie_jar(responses: Iterable[Response]) -> list[Cookie]:
    """The cookies a jar holds after these responses, in order (a later one replaces)."""
    jar: dict[tuple[str, str | None, str | None], Cookie] = {}
    for response in responses:
        for header in response.values("set-cookie"):
            cookie = parse_set_cookie(header)
            if cookie is None or not _prefix_rules_met(cookie):
                continue
            key = (cookie.name, cookie.domain, cookie.path)
            jar.pop(key, None)
            if not cookie.expired:
                jar[key] = cookie
    return list(jar.values())


_COOKIE_ORDER = [
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
]


def _worse(new: str, old: str | None) -> str:
    if old is None or _COOKIE_ORDER.index(new) > _COOKIE_ORDER.index(old):
        return new
    return old


def _cookies_test(
    page: Response, others: Iterable[Response], preload: Mapping[str, bool]
) -> TestResult:
    hsts = _hsts_test(page, preload).passed
    result: str | None = None
    for header in page.values("set-cookie"):
        if _invalid_same_site(header):
            result = _worse("cookies-samesite-flag-invalid", result)
    cookies = cookie_jar([page, *others])
    if not cookies:
        result = "cookies-not-found"
    else:
        missing_same_site = False
        for cookie in cookies:
            lowered = cookie.name.lower()
            session = "login" in lowered or "sess" in lowered
            anticsrf = "csrf" in lowered
            if not cookie.secure and cookie.same_site == "none":
                result = _worse("cookies-samesite-flag-invalid", result)
            if not cookie.secure:
                result = _worse(
                    "cookies-without-secure-flag-but-protected-by-hsts"
                    if hsts
                    else "cookies-without-secure-flag",
                    result,
                )
            if anticsrf and not cookie.same_site:
                result = _worse("cookies-anticsrf-without-samesite-flag", result)
            if session and not cookie.secure:
                result = _worse(
                    "cookies-session-without-secure-flag-but-protected-by-hsts"
                    if hsts
                    else "cookies-session-without-secure-flag",
                    result,
                )
            if session and not cookie.http_only:
                result = _worse("cookies-session-without-httponly-flag", result)
            missing_same_site = missing_same_site or not cookie.same_site
        if result is None:
            result = (
                "cookies-secure-with-httponly-sessions"
                if missing_same_site
                else "cookies-secure-with-httponly-sessions-and-samesite"
            )
    passed = result in (
        "cookies-not-found",
        "cookies-secure-with-httponly-sessions-and-samesite",
        "cookies-secure-with-httponly-sessions",
    )
    return TestResult("cookies", result, passed)


# --------------------------------------------------------------------------- COEP / COOP

_COEP_VALUES = {
    "require-corp": "coep-implemented-with-require-corp",
    "credentialless": "coep-implemented-with-credentialless",
    "unsafe-none": "coep-implemented-with-unsafe-none",
}
_COOP_VALUES = {
    "same-origin": "coop-implemented-with-same-origin",
    "same-origin-allow-popups": "coop-implemented-with-same-origin-allow-popups",
    "noopener-allow-popups": "coop-implemented-with-noopener-allow-popups",
    "unsafe-none": "coop-implemented-with-unsafe-none",
}

_SF_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*")
_SF_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_SF_BARE_ITEM = re.compile(
    r'-?\d{1,15}(?:\.\d{1,3})?|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"'
    r"|[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*|\?[01]|:[A-Za-z0-9+/=]*:"
)


def structured_token(value: str) -> str | None:
    """The bare item of an RFC 8941 item when it is a token (parameters allowed), else None."""
    text = value.strip(" ")
    match = _SF_TOKEN.match(text)
    if not match:
        return None
    token, rest = match.group(0), text[match.end() :]
    while rest:
        if not rest.startswith(";"):
            return None
        rest = rest[1:].lstrip(" ")
        key = _SF_KEY.match(rest)
        if not key:
            return None
        rest = rest[key.end() :]
        if rest.startswith("="):
            item = _SF_BARE_ITEM.match(rest[1:])
            if not item:
                return None
            rest = rest[1 + item.end() :]
    return token


def _structured_policy_test(
    page: Response, header: str, prefix: str, values: Mapping[str, str]
) -> TestResult:
    raw = page.header(header)
    if not raw:
        result = f"{prefix}-not-implemented"
    else:
        token = structured_token(raw[:1024].strip())
        result = values.get(token or "", f"{prefix}-header-invalid")
    return TestResult(header, result, not result.endswith("-header-invalid"))


# --------------------------------------------------------------------------- CORS


def _cors_test(cors: Response | None, origin: str) -> TestResult:
    result = "cross-origin-resource-sharing-not-implemented"
    allow_origin = cors.header("access-control-allow-origin") if cors else None
    if cors is not None and allow_origin:
        credentials = cors.header("access-control-allow-credentials") or ""
        if allow_origin[:256].strip().lower() == "*":
            result = "cross-origin-resource-sharing-implemented-with-public-access"
        elif allow_origin == origin and credentials.lower().strip() == "true":
            result = "cross-origin-resource-sharing-implemented-with-universal-access"
        else:
            result = "cross-origin-resource-sharing-implemented-with-restricted-access"
    return TestResult(
        "cross-origin-resource-sharing", result, not result.endswith("universal-access")
    )


# --------------------------------------------------------------------------- redirection


def is_preloaded(host: str, preload: Mapping[str, bool]) -> bool:
    """The host, or a parent domain listed with include-subdomains, is on the preload list."""
    host = host.lower()
    if host in preload:
        return True
    labels = host.split(".")
    return any(preload.get(".".join(labels[i:])) for i in range(1, len(labels)))


def _redirection_test(redirects: list[str] | None, preload: Mapping[str, bool]) -> TestResult:
    if redirects is None:
        result = "redirection-not-needed-no-http"
    else:
        route = [urlsplit(url) for url in redirects]
        if all(is_preloaded(url.hostname or "", preload) for url in route):
            result = "redirection-all-redirects-preloaded"
        elif len(route) == 1:
            result = "redirection-missing"
        elif route[-1].scheme != "https":
            result = "redirection-not-to-https"
        elif route[1].scheme == "http":
            result = "redirection-not-to-https-on-initial-redirection"
        elif route[0].scheme == "http" and route[0].hostname != route[1].hostname:
            result = "redirection-off-host-from-http"
        else:
            result = "redirection-to-https"
    passed = result in (
        "redirection-not-needed-no-http",
        "redirection-all-redirects-preloaded",
        "redirection-to-https",
    )
    return TestResult("redirection", result, passed)


# --------------------------------------------------------------------------- referrer

_REFERRER_GOOD = ("no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin")
_REFERRER_BAD = ("origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade")


def _referrer_test(page: Response, meta: dict[str, list[str]]) -> TestResult:
    header = page.header("referrer-policy")
    values = ([header] if header is not None else []) + meta.get("referrer-policy", [])
    if not values:
        return TestResult("referrer-policy", "referrer-policy-not-implemented", True)
    known = [
        part.lower().strip()
        for part in ", ".join(values).split(",")
        if part.lower().strip() in _REFERRER_GOOD + _REFERRER_BAD
    ]
    policy = known[-1] if known else ""
    if policy in _REFERRER_GOOD:
        result = "referrer-policy-private"
    elif policy in _REFERRER_BAD:
        result = "referrer-policy-unsafe"
    else:
        result = "referrer-policy-header-invalid"
    return TestResult("referrer-policy", result, result == "referrer-policy-private")


# --------------------------------------------------------------------------- HSTS

SIX_MONTHS = 15_552_000  # the scanner's "six months" (15768000 is exact; it allows 180 days)


def _js_parse_int(text: str) -> float:
    match = re.match(r"\s*([+-]?\d+)", text)
    return int(match.group(1)) if match else math.nan


def _hsts_test(page: Response, preload: Mapping[str, bool]) -> TestResult:
    https = urlsplit(page.url).scheme == "https"
    header = page.header("strict-transport-security") if https else None
    if not https:
        result = "hsts-not-implemented-no-https"
    elif header is None:
        result = "hsts-not-implemented"
    else:
        data = header[:1024]
        max_age: float | None = None
        if "," in data:
            result = "hsts-header-invalid"
        else:
            for parameter in (p.strip().lower() for p in data.split(";")):
                if parameter.startswith("max-age="):
                    max_age = _js_parse_int(parameter[8:128])
            if max_age is None:
                result = "hsts-header-invalid"
            elif max_age < SIX_MONTHS:  # NaN compares false: the scanner counts it as long enough
                result = "hsts-implemented-max-age-less-than-six-months"
            else:
                result = "hsts-implemented-max-age-at-least-six-months"
    if https and is_preloaded(urlsplit(page.url).hostname or "", preload):
        result = "hsts-preloaded"
    passed = result in ("hsts-implemented-max-age-at-least-six-months", "hsts-preloaded")
    return TestResult("strict-transport-security", result, passed)


# --------------------------------------------------------------------------- SRI

_SRI_ORDER = [
    "sri-implemented-and-all-scripts-loaded-securely",
    "sri-implemented-and-external-scripts-loaded-securely",
    "sri-implemented-but-external-scripts-not-loaded-securely",
    "sri-not-implemented-but-external-scripts-loaded-securely",
    "sri-not-implemented-and-external-scripts-not-loaded-securely",
    "sri-not-implemented-response-not-html",
]


def _site_domain(host: str) -> str:
    return ".".join(host.lower().split(".")[-2:])


def _sri_test(page: Response) -> TestResult:
    mime = (page.header("content-type") or "").split(";", 1)[0]
    result: str | None = None
    if mime and mime not in HTML_TYPES:
        result = "sri-not-implemented-response-not-html"
    else:
        scripts = _collect(page.body).scripts
        foreign = False
        page_url = urlsplit(page.url)
        for script in scripts:
            src = script.get("src")
            if not src:
                continue
            integrity = script.get("integrity") or None
            relative_protocol = bool(re.match(r"^//[^/]", src))
            full_url = bool(re.match(r"^https?://", src))
            relative_origin = not relative_protocol and not full_url
            if relative_protocol:
                same_domain = True
            elif full_url:
                same_domain = _site_domain(urlsplit(src).hostname or "") == _site_domain(
                    page_url.hostname or ""
                )
            else:
                same_domain = True
            secure_origin = relative_origin or (same_domain and not relative_protocol)
            foreign = foreign or not secure_origin
            scheme = urlsplit(src).scheme if full_url else None
            secure_scheme = scheme == "https" or (relative_origin and page_url.scheme == "https")
            if not secure_origin:
                if integrity and not secure_scheme:
                    outcome = "sri-implemented-but-external-scripts-not-loaded-securely"
                elif not integrity and secure_scheme:
                    outcome = "sri-not-implemented-but-external-scripts-loaded-securely"
                elif not integrity:
                    outcome = "sri-not-implemented-and-external-scripts-not-loaded-securely"
                else:
                    continue
                if result is None or _SRI_ORDER.index(outcome) > _SRI_ORDER.index(result):
                    result = outcome
            elif integrity and secure_scheme and result is None:
                result = "sri-implemented-and-all-scripts-loaded-securely"
        if not scripts:
            result = "sri-not-implemented-but-no-scripts-loaded"
        elif result is None:
            result = (
                "sri-implemented-and-external-scripts-loaded-securely"
                if foreign
                else "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
            )
    passed = result in (
        "sri-implemented-and-all-scripts-loaded-securely",
        "sri-implemented-and-external-scripts-loaded-securely",
        "sri-not-implemented-response-not-html",
        "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
        "sri-not-implemented-but-no-scripts-loaded",
    )
    return TestResult("subresource-integrity", result, passed)


# --------------------------------------------------------------------------- XCTO / XFO / CORP


def _xcto_test(page: Response) -> TestResult:
    header = page.header("x-content-type-options")
    if not header:
        result = "x-content-type-options-not-implemented"
    elif header[:256].strip().lower() == "nosniff":
        result = "x-content-type-options-nosniff"
    else:
        result = "x-content-type-options-header-invalid"
    return TestResult("x-content-type-options", result, result == "x-content-type-options-nosniff")


def _xfo_test(page: Response, meta: dict[str, list[str]]) -> TestResult:
    header = page.header("x-frame-options")
    if not header:
        result = "x-frame-options-not-implemented"
    else:
        value = header[:1024].strip().lower()
        if value in ("deny", "sameorigin"):
            result = "x-frame-options-sameorigin-or-deny"
        elif value.startswith("allow-from"):
            result = "x-frame-options-allow-from-origin"
        else:
            result = "x-frame-options-header-invalid"
    csp = analyze_csp(page, meta)
    if csp.data and "frame-ancestors" in csp.data:
        result = "x-frame-options-implemented-via-csp"
    passed = result in (
        "x-frame-options-allow-from-origin",
        "x-frame-options-sameorigin-or-deny",
        "x-frame-options-implemented-via-csp",
    )
    return TestResult("x-frame-options", result, passed)


def _corp_test(page: Response) -> TestResult:
    header = page.header("cross-origin-resource-policy")
    results = {
        "same-site": "corp-implemented-with-same-site",
        "same-origin": "corp-implemented-with-same-origin",
        "cross-origin": "corp-implemented-with-cross-origin",
    }
    if not header:
        result = "corp-not-implemented"
    else:
        value = header[:256].strip().lower()
        result = results.get(value, "corp-header-invalid")
    return TestResult("cross-origin-resource-policy", result, not result.endswith("header-invalid"))
