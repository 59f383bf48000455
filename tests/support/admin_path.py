"""Where a baked site's admin lives: each bake draws its own path (``admin_url``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

DEFAULT_ADMIN_URL = re.compile(r'^DEFAULT_ADMIN_URL = "([^"]+)"$', re.M)


def admin_path(project: Path, slug: str) -> str:
    """Return the admin's path (``/staff-.../``) that ``project``'s settings default to.

    Read from the generated settings and checked against the answers recorded at bake time, so
    a test finds the path the site really serves without DJANGO_ADMIN_URL.
    """
    base = (project / slug / "settings" / "base.py").read_text(encoding="utf-8")
    found = DEFAULT_ADMIN_URL.search(base)
    assert found, f"no DEFAULT_ADMIN_URL in {slug}/settings/base.py"
    recorded = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert recorded.get("admin_url") == found[1], "settings and .cookiecutter.json disagree"
    return "/" + found[1]
