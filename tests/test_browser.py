"""The pages people look at, checked in a real browser: Debian's headless Chromium via Playwright.

The default site and the Django 6.1 site each run as on Railway (tests/live_site.py):
collectstatic (build), ``manage.py deploy`` (pre-deploy, migrations on a real PostgreSQL),
gunicorn with production settings. Requests carry
``X-Forwarded-Proto: https`` as Railway's edge sends them, so the site serves rather than
redirects. Each page (``/``, a 404, the admin login) is opened at 390 px and 1280 px wide and
must show no console errors, no CSP violations, no horizontal scrolling on a phone, readable
text on a laptop, the head metadata, ``alt`` on every image and WCAG AA text contrast.

Screenshots go to $CFMP_SCREENSHOT_DIR/<combination>/ when set, else to pytest's temporary
folder; the figures measured are printed and written next to them (measurements.json). Nothing
is written into the repository. Playwright never downloads a browser here: it drives
/usr/bin/chromium (or $CFMP_CHROMIUM).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.live_site import serve

HOST = "127.0.0.1"
PAGES = {"home": "/", "not-found": "/no-such-page/", "admin-login": "{admin}login/"}
WIDTHS = {"phone": 390, "laptop": 1280}
HEIGHT = 844
# WCAG 2.x success criterion 1.4.3 (AA): 4.5:1 for text; 1.4.8 (AAA): lines of at most 80
# characters. Browsers' default text size is 16 px; main text should not be smaller.
MIN_CONTRAST = 4.5
MAX_LINE_CHARACTERS = 80
MIN_MAIN_FONT_PX = 16.0


# --------------------------------------------------------------------------- contrast (WCAG)


def parse_css_color(text: str) -> tuple[float, float, float, float]:
    """(r, g, b, alpha) from a computed CSS color: ``rgb(r, g, b)`` or ``rgba(r, g, b, a)``."""
    match = re.fullmatch(
        r"rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+)(%?))?\s*\)",
        text.strip(),
    )
    if match is None:
        raise ValueError(f"not an rgb()/rgba() color: {text!r}")
    red, green, blue = (float(match.group(i)) for i in (1, 2, 3))
    alpha = 1.0 if match.group(4) is None else float(match.group(4))
    if match.group(5):
        alpha /= 100
    return red, green, blue, alpha


def hex_color(text: str) -> tuple[float, float, float]:
    """(r, g, b) from ``#rgb`` or ``#rrggbb``."""
    digits = text.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return tuple(float(int(digits[i : i + 2], 16)) for i in (0, 2, 4))  # type: ignore[return-value]


def over(top: tuple[float, float, float, float], below: tuple[float, float, float]):
    """``top`` (with its alpha) painted over the opaque colour ``below``."""
    alpha = top[3]
    return tuple(top[i] * alpha + below[i] * (1 - alpha) for i in range(3))


def relative_luminance(rgb) -> float:
    """WCAG 2.x relative luminance of an sRGB colour with 0-255 channels."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first, second) -> float:
    """WCAG contrast ratio of two opaque colours, 1.0 to 21.0, in either order."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_contrast(color: str, backgrounds: list[str], canvas=(255.0, 255.0, 255.0)) -> float:
    """Contrast of text ``color`` over its element's background stack.

    ``backgrounds`` are the computed background colours from the element up to <html>; they are
    painted from the root down over the browser's canvas, then the text over the result.
    """
    below = canvas
    for layer in reversed(backgrounds):
        below = over(parse_css_color(layer), below)
    return contrast_ratio(over(parse_css_color(color), below), below)


@pytest.mark.parametrize(
    ("foreground", "background", "expected"),
    [
        ("#000", "#fff", 21.0),
        ("#fff", "#000", 21.0),
        ("#777", "#fff", 4.48),  # just under AA
        ("#767676", "#fff", 4.54),  # the lightest grey that passes AA on white
        ("#595959", "#fff", 7.0),
        ("#1f6f4a", "#1f6f4a", 1.0),
    ],
)
def test_contrast_ratio_of_known_pairs(foreground, background, expected):
    ratio = contrast_ratio(hex_color(foreground), hex_color(background))
    assert ratio == pytest.approx(expected, abs=0.01)


def test_text_contrast_composites_transparent_layers():
    # Half-transparent black text on white is #808080 on white: 3.95.
    assert text_contrast("rgba(0, 0, 0, 0.5)", ["rgb(255, 255, 255)"]) == pytest.approx(
        contrast_ratio((127.5, 127.5, 127.5), (255, 255, 255)), abs=1e-9
    )
    # Transparent layers let the first opaque one below (here <html>'s black) show through.
    ratio = text_contrast("rgb(255, 255, 255)", ["rgba(0, 0, 0, 0)", "rgb(0, 0, 0)"])
    assert ratio == pytest.approx(21.0)
    # Nothing opaque at all: the canvas (white) is the background.
    assert text_contrast("rgb(0, 0, 0)", ["rgba(0, 0, 0, 0)"]) == pytest.approx(21.0)
    assert parse_css_color("rgb(1 2 3 / 50%)") == (1.0, 2.0, 3.0, 0.5)
    with pytest.raises(ValueError):
        parse_css_color("color(srgb 1 0 0)")


# --------------------------------------------------------------------------- the running site


@dataclass
class RunningSite:
    combination_id: str
    base_url: str
    admin: str


# One site per Django line: the pages (and the CSP implementation) differ between them.
BROWSER_COMBINATIONS = ["default", "django-6.1"]


@pytest.fixture(scope="module", params=BROWSER_COMBINATIONS)
def running_site(request, get_prepared):
    """A site built, pre-deployed and served by gunicorn with production settings (live_site).

    The browser reaches it as http://127.0.0.1:<port>; that host is allowed through
    DJANGO_ALLOWED_HOSTS, and every request carries the edge's X-Forwarded-Proto.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium", pytrace=False)
    extra_env = {"DJANGO_ALLOWED_HOSTS": HOST, "WEB_CONCURRENCY": "1"}
    with serve(get_prepared(request.param), extra_env) as server:
        yield RunningSite(request.param, f"http://{HOST}:{server.port}", server.site.admin)


# --------------------------------------------------------------------------- the browser

# Runs before any page script: collects CSP violations the page reports to itself.
COLLECT_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""

# Everything the checks need from a loaded page, in one round trip.
MEASURE_PAGE = """
() => {
  const meta = (name) => {
    const element = document.querySelector(`meta[name="${name}"]`);
    return element ? element.getAttribute("content") : null;
  };
  const describe = (element) =>
    element.tagName.toLowerCase() + (element.className ? "." + element.className : "");
  const canvas = document.createElement("canvas").getContext("2d");
  const texts = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const element = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(element)) continue;
    seen.add(element);
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (!box.width || !box.height || style.visibility !== "visible") continue;
    const backgrounds = [];
    for (let node = element; node; node = node.parentElement) {
      backgrounds.push(getComputedStyle(node).backgroundColor);
    }
    const text = element.textContent.replace(/\\s+/g, " ").trim();
    canvas.font = style.font;
    const averageCharacter = canvas.measureText(text).width / text.length;
    texts.push({
      element: describe(element),
      text: text.slice(0, 40),
      inMain: Boolean(element.closest("main")),
      color: style.color,
      backgrounds,
      fontSize: parseFloat(style.fontSize),
      // How many characters of this text fit on one line of the element's box.
      lineCharacters: element.clientWidth / averageCharacter,
    });
  }
  return {
    lang: document.documentElement.getAttribute("lang"),
    title: document.title,
    viewport: meta("viewport"),
    description: meta("description"),
    imagesWithoutAlt: [...document.images].filter((i) => !i.hasAttribute("alt")).map((i) => i.src),
    images: document.images.length,
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    cspViolations: window.__cspViolations || [],
    texts,
  };
}
"""


@dataclass
class Visit:
    page: str
    width: int
    scheme: str
    status: int
    console_errors: list[str]
    page_errors: list[str]
    failed_requests: list[str]
    measured: dict
    screenshot: Path | None


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory) -> Path:
    configured = os.environ.get("CFMP_SCREENSHOT_DIR")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def visits(running_site, browser, screenshot_dir):
    """visit(page, width, scheme="light") -> Visit; each page is loaded once per module."""
    cache: dict[tuple[str, int, str], Visit] = {}

    def visit(page_name: str, width: int, scheme: str = "light") -> Visit:
        key = (page_name, width, scheme)
        if key in cache:
            return cache[key]
        context = browser.new_context(
            viewport={"width": width, "height": HEIGHT},
            color_scheme=scheme,
            extra_http_headers={"X-Forwarded-Proto": "https"},
        )
        context.add_init_script(COLLECT_CSP_VIOLATIONS)
        page = context.new_page()
        url = running_site.base_url + PAGES[page_name].format(admin=running_site.admin)
        console_errors: list[tuple[str, str]] = []
        page_errors: list[str] = []
        failed: list[str] = []
        page.on(
            "console",
            lambda message: (
                console_errors.append((message.text, message.location.get("url", "")))
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.on("requestfailed", lambda request: failed.append(f"{request.url}: failed"))
        page.on(
            "response",
            lambda response: (
                failed.append(f"{response.url}: {response.status}")
                if response.status >= 400 and response.url != url
                else None
            ),
        )
        try:
            response = page.goto(url, wait_until="load", timeout=30_000)
            page.wait_for_load_state("networkidle", timeout=10_000)
            measured = page.evaluate(MEASURE_PAGE)
            screenshot = None
            if scheme == "light":
                folder = screenshot_dir / running_site.combination_id
                folder.mkdir(exist_ok=True)
                screenshot = folder / f"{page_name}-{width}.png"
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            context.close()
        if page_name == "not-found":
            # Chromium logs the 404 of the page itself as a console error: that one is expected.
            console_errors = [e for e in console_errors if not (e[1] == url and "404" in e[0])]
        cache[key] = Visit(
            page_name,
            width,
            scheme,
            response.status if response else 0,
            [f"{text} (at {where})" for text, where in console_errors],
            page_errors,
            failed,
            measured,
            screenshot,
        )
        return cache[key]

    yield visit
    folder = screenshot_dir / running_site.combination_id
    folder.mkdir(exist_ok=True)
    write_measurements(cache, folder, browser.version)


def write_measurements(cache, directory: Path, version: str) -> None:
    """Print the figures measured and keep them next to the screenshots."""
    rows = []
    for (page_name, width, scheme), visit in sorted(cache.items()):
        texts = visit.measured["texts"]
        main = [t for t in texts if t["inMain"]]
        ratios = [text_contrast(t["color"], t["backgrounds"]) for t in texts]
        rows.append(
            {
                "page": page_name,
                "width": width,
                "scheme": scheme,
                "status": visit.status,
                "scrollWidth": visit.measured["scrollWidth"],
                "clientWidth": visit.measured["clientWidth"],
                "min_contrast": round(min(ratios), 2) if ratios else None,
                "min_main_font_px": min((t["fontSize"] for t in main), default=None),
                "max_line_characters": round(max((t["lineCharacters"] for t in main), default=0)),
                "texts": [
                    {
                        "element": t["element"],
                        "text": t["text"],
                        "in_main": t["inMain"],
                        "contrast": round(ratio, 2),
                        "font_px": t["fontSize"],
                        "line_characters": round(t["lineCharacters"]),
                    }
                    for t, ratio in zip(texts, ratios, strict=True)
                ],
            }
        )
    report = {"chromium": version, "pages": rows}
    (directory / "measurements.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nChromium {version}; screenshots in {directory}")
    print("page         width scheme status scrollW clientW contrast main-font line-chars")
    for row in rows:
        print(
            f"{row['page']:<12} {row['width']:>5} {row['scheme']:<6} {row['status']:>6}"
            f" {row['scrollWidth']:>7} {row['clientWidth']:>7} {row['min_contrast']!s:>8}"
            f" {row['min_main_font_px']!s:>9} {row['max_line_characters']:>10}"
        )


# --------------------------------------------------------------------------- the checks

EXPECTED_STATUS = {"home": 200, "not-found": 404, "admin-login": 200}
each_page = pytest.mark.parametrize("page_name", list(PAGES))
each_width = pytest.mark.parametrize("width", list(WIDTHS.values()), ids=list(WIDTHS))


@pytest.mark.slow
@each_page
@each_width
def test_page_loads_without_errors_or_csp_violations(visits, page_name, width):
    visit = visits(page_name, width)
    assert visit.status == EXPECTED_STATUS[page_name]
    assert not visit.console_errors, f"console errors: {visit.console_errors}"
    assert not visit.page_errors, f"script errors: {visit.page_errors}"
    assert not visit.measured["cspViolations"], f"CSP violations: {visit.measured['cspViolations']}"
    assert not visit.failed_requests, f"failed requests: {visit.failed_requests}"
    assert visit.screenshot is not None and visit.screenshot.stat().st_size > 1000


@pytest.mark.slow
@each_page
def test_no_horizontal_scrolling_on_a_phone(visits, page_name):
    measured = visits(page_name, WIDTHS["phone"]).measured
    assert measured["clientWidth"] == WIDTHS["phone"]
    assert measured["scrollWidth"] <= measured["clientWidth"], (
        f"{page_name} scrolls sideways at 390 px: {measured['scrollWidth']} px of content"
    )


@pytest.mark.slow
@pytest.mark.parametrize("page_name", ["home", "not-found"])
def test_main_text_is_readable_on_a_laptop(visits, page_name):
    """The site's own pages: main text at least 16 px, lines of at most 80 characters."""
    texts = [t for t in visits(page_name, WIDTHS["laptop"]).measured["texts"] if t["inMain"]]
    assert texts, "no text found in <main>"
    small = [(t["element"], t["fontSize"]) for t in texts if t["fontSize"] < MIN_MAIN_FONT_PX]
    assert not small, f"main text under {MIN_MAIN_FONT_PX} px: {small}"
    long_lines = [
        (t["element"], round(t["lineCharacters"]))
        for t in texts
        if t["lineCharacters"] > MAX_LINE_CHARACTERS
    ]
    assert not long_lines, f"lines longer than {MAX_LINE_CHARACTERS} characters: {long_lines}"


@pytest.mark.slow
@each_page
def test_head_metadata_and_image_alt_text(visits, page_name):
    measured = visits(page_name, WIDTHS["phone"]).measured
    assert measured["lang"], "<html> has no lang"
    assert measured["title"].strip(), "no <title>"
    assert measured["viewport"] and "width=device-width" in measured["viewport"]
    assert measured["description"] and measured["description"].strip(), "no meta description"
    assert not measured["imagesWithoutAlt"], f"images without alt: {measured['imagesWithoutAlt']}"


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["light", "dark"])
@each_width
def test_landing_page_text_contrast(visits, scheme, width):
    """Every piece of text on the landing page reaches 4.5:1 against what is behind it."""
    texts = visits("home", width, scheme).measured["texts"]
    assert any(t["inMain"] for t in texts), "no text found in <main>"
    low = [
        (t["element"], t["text"], round(text_contrast(t["color"], t["backgrounds"]), 2))
        for t in texts
        if text_contrast(t["color"], t["backgrounds"]) < MIN_CONTRAST
    ]
    assert not low, f"text under {MIN_CONTRAST}:1 contrast: {low}"
