"""Return the graph of a baked site's ``.railway/railway.py``, evaluated as the Railway CLI does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.railway_cli import evaluate, graph_from


def graph_of(project: Path) -> dict[str, Any]:
    """Return the graph of .railway/railway.py, evaluated as `railway config plan` does."""
    return graph_from(evaluate(project))
