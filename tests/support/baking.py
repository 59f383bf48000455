"""Bake the template with cookiecutter, and list what a bake wrote.

The session fixtures in ``tests/conftest.py`` (``get_baked``, ``baked``) bake each combination
once through ``bake_into``; tests that need a bake of their own call it or ``bake``.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from tests.support.combinations import TEMPLATE_DIR, extra_context


def describe_failure(exc: BaseException) -> str:
    """Return what a failed bake raised, as a failure message shows it."""
    if isinstance(exc, SystemExit):
        return f"the bake exited with status {exc.code}"
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def bake(cookies, answers: dict[str, Any]) -> Path:
    """Bake with pytest-cookies; return the project folder or fail the test with the reason."""
    import pytest

    result = cookies.bake(extra_context=extra_context(answers), template=str(TEMPLATE_DIR))
    if result.exception is not None or result.exit_code != 0:
        if result.exception is not None:
            detail = describe_failure(result.exception)
        else:
            detail = f"exit {result.exit_code}"
        pytest.fail(f"bake failed for {answers!r}:\n{detail}", pytrace=False)
    return result.project_path


def bake_into(output_dir: Path, answers: dict[str, Any], config_file: Path | None = None) -> Path:
    """Bake with cookiecutter directly into ``output_dir``; return the project folder.

    Raises whatever cookiecutter (or a hook) raises.
    """
    from cookiecutter.main import cookiecutter

    output_dir.mkdir(parents=True, exist_ok=True)
    project = cookiecutter(
        template=str(TEMPLATE_DIR),
        no_input=True,
        extra_context=extra_context(answers),
        output_dir=str(output_dir),
        config_file=str(config_file) if config_file else None,
    )
    return Path(project)


def project_files(project: Path) -> list[Path]:
    """Return every file in a baked project, sorted, skipping caches a test run may leave."""
    skip = {"__pycache__", ".ruff_cache", ".pytest_cache", "node_modules", "staticfiles"}
    return sorted(
        path
        for path in project.rglob("*")
        if path.is_file() and not skip.intersection(path.relative_to(project).parts)
    )
