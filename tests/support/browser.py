"""The browser the page tests drive through Playwright, and how it is started.

Debian's chromium (apt-get install chromium), or another Chromium-based browser named by
CFMP_CHROMIUM (e.g. Google Chrome on GitHub's runners). Playwright never downloads one.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("CFMP_CHROMIUM", "/usr/bin/chromium")
#: Headless on a machine without a network: no sandbox (root), nothing in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
