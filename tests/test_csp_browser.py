"""The strict CSP holds in a real browser: no violations on the landing page and the admin.

Debian's Chromium (/usr/bin/chromium), driven by Playwright, opens the generated site served by
real gunicorn with production settings, through a tiny stand-in for Railway's edge (EdgeProxy):
it adds X-Forwarded-Proto: https, so the site serves pages instead of redirecting to an HTTPS URL
that nothing here answers. DJANGO_ALLOWED_HOSTS admits 127.0.0.1.

A violation is seen two ways: the ``securitypolicyviolation`` DOM event (recorded by a script
Playwright injects outside the page's CSP) and Chromium's console message about it. A control
test makes a violation on purpose, so a detector that sees nothing would fail.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.live_site import serve

pytestmark = pytest.mark.slow

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} in ${event.documentURI}`
  );
});
"""
COMBINATIONS = ["default", "hostile-name-py313"]


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


class EdgeProxy(BaseHTTPRequestHandler):
    """Plays Railway's edge for the browser: forwards to gunicorn with X-Forwarded-Proto: https
    and the Origin the browser would send over HTTPS (it speaks plain HTTP to 127.0.0.1 here,
    and Django checks a form post's Origin against the scheme it is told)."""

    upstream_port = 0
    protocol_version = "HTTP/1.1"

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-Proto"] = "https"
        if headers.get("Origin", "").startswith("http://"):
            headers["Origin"] = "https://" + headers["Origin"][len("http://") :]
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
            self.send_response_only(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)
        finally:
            upstream.close()

    do_GET = do_POST = do_HEAD = forward

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module", params=COMBINATIONS)
def server(request, get_prepared):
    """The prepared site served with 127.0.0.1 allowed, behind a small edge proxy."""
    site = get_prepared(request.param)
    with serve(site, extra_env={"DJANGO_ALLOWED_HOSTS": "127.0.0.1"}) as running:
        handler = type("Edge", (EdgeProxy,), {"upstream_port": running.port})
        proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=proxy.serve_forever, daemon=True)
        thread.start()
        running.edge = f"http://127.0.0.1:{proxy.server_address[1]}"
        try:
            yield running
        finally:
            proxy.shutdown()
            proxy.server_close()


@pytest.fixture
def browser(server, tmp_path):
    """A fresh Chromium profile whose pages report their CSP violations and console errors."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        # Console messages ("type: text") and uncaught script errors ("pageerror: ..."). Other
        # console errors (e.g. the browser's own /favicon.ico request on admin pages answering
        # 404) are not about the policy and are left to the page tests.
        page.messages = []
        page.on("console", lambda message: page.messages.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: page.messages.append(f"pageerror: {error}"))
        try:
            yield page
        finally:
            context.close()


def violations(page) -> list[str]:
    events = page.evaluate("window.__cspViolations")
    console = [
        text
        for text in page.messages
        if "Content Security Policy" in text or "Content-Security-Policy" in text
    ]
    return events + console


def visit(page, server, path: str) -> list[str]:
    answer = page.goto(server.edge + path, wait_until="load")
    assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
    page.wait_for_timeout(300)  # let late events (deferred scripts, fonts) arrive
    return violations(page)


def test_detector_sees_a_violation(server, browser):
    """Control: an inline style added to the page is blocked, and both channels report it."""
    assert visit(browser, server, "/") == []
    browser.evaluate(
        "() => { const s = document.createElement('style');"
        " s.textContent = 'body { color: red }'; document.head.appendChild(s); }"
    )
    browser.wait_for_timeout(300)
    found = violations(browser)
    assert any("style-src" in item for item in found), found


@pytest.mark.parametrize("path", ["/", "{admin}login/"])
def test_no_csp_violation(server, browser, path):
    found = visit(browser, server, server.site.at(path))
    assert found == [], "\n".join(found)
    errors = [text for text in browser.messages if text.startswith("pageerror")]
    assert errors == [], "\n".join(browser.messages)


def test_admin_works_under_the_policy(server, browser):
    """Log in through the real form (form-action 'self'), then open the admin's busiest page."""
    password = server.site.create_superuser("browser")
    admin = server.site.admin
    assert visit(browser, server, f"{admin}login/") == []
    browser.fill("#id_username", "browser")
    browser.fill("#id_password", password)
    with browser.expect_navigation():
        browser.click("input[type=submit]")
    assert browser.url.endswith(admin), (
        browser.url,
        browser.inner_text("body")[:600],
        browser.context.cookies(),
    )
    assert violations(browser) == []
    for path in (admin, f"{admin}users/user/add/", f"{admin}auth/group/add/"):
        found = visit(browser, server, path)
        assert found == [], f"{path}:\n" + "\n".join(found)
    errors = [text for text in browser.messages if text.startswith("pageerror")]
    assert errors == [], "\n".join(browser.messages)
