"""Evaluate a baked site's ``.railway/railway.py`` the way the Railway CLI does, offline."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any


def graph_of(project: Path) -> dict[str, Any]:
    """Evaluate .railway/railway.py as the Railway CLI would, offline, for production."""
    from railway_sdk import create_railway_context

    path = project / ".railway" / "railway.py"
    assert path.is_file(), "no .railway/railway.py"
    namespace = runpy.run_path(str(path))
    assert callable(namespace.get("main")), ".railway/railway.py defines no main()"
    result = namespace["main"](create_railway_context(environment="production"))
    assert hasattr(result, "to_graph"), "main() must return project(...)"
    return result.to_graph()
