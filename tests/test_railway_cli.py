"""The CLI-faithful evaluation in support/railway_cli.py: what the CLI accepts and refuses.

Each case writes a small ``.railway/railway.py`` and evaluates it as `railway config plan` does
(a fresh ``python3`` from PATH, the CLI's module load and entry-point choice, JSON on stdout).
The rules come from railwayapp/cli 5.43.1, src/iac/eval.rs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.support.railway_cli import EvaluationError, evaluate, graph_from, planned_deletions
from tests.support.venvs import python_for

HEADER = "from railway_sdk import define_railway, preserve, project, service\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    """Write ``header`` and the dedented ``body`` as the project's IaC file; return the root."""
    folder = tmp_path / ".railway"
    folder.mkdir()
    text = header + textwrap.dedent(body)
    (folder / "railway.py").write_text(text, encoding="utf-8")
    return tmp_path


def test_main_is_called_with_no_argument(tmp_path):
    project = write(
        tmp_path,
        """
        @define_railway
        def main(ctx=None):
            return project("p", resources=[service("web", env={"ARGUMENT": repr(ctx)})])
        """,
    )
    graph = graph_from(evaluate(project))
    [web] = graph["resources"]
    assert web["address"] == "service.web"
    assert web["variables"]["ARGUMENT"] == {"type": "literal", "value": "None"}


def test_a_main_that_needs_its_context_fails(tmp_path):
    project = write(
        tmp_path,
        "def main(ctx):\n    return project('p', resources=[])\n",
    )
    with pytest.raises(EvaluationError, match="missing 1 required positional argument"):
        evaluate(project)


def test_entry_points_in_the_clis_order_and_partial(tmp_path):
    project = write(
        tmp_path,
        """
        PARTIAL = "api"
        def Railway():
            return project("from-Railway", resources=[])
        default = project("from-default", resources=[])
        """,
    )
    payload = evaluate(project)
    assert payload["partial"] == "api"
    assert payload["project"]["name"] == "from-Railway"


def test_output_on_stdout_breaks_the_plan(tmp_path):
    project = write(
        tmp_path,
        "print('hello')\ndef main():\n    return project('p', resources=[])\n",
    )
    with pytest.raises(EvaluationError, match="non-JSON output"):
        evaluate(project)


def test_the_python3_on_path_must_have_railway_sdk(tmp_path):
    """The CLI uses whatever ``python3`` PATH finds: without railway-sdk the plan fails."""
    python, fell_back = python_for("3.12")
    project = write(tmp_path, "def main():\n    return project('p', resources=[])\n")
    if fell_back:
        pytest.skip("no second interpreter without railway-sdk on this machine")
    with pytest.raises(EvaluationError, match="No module named 'railway_sdk'"):
        evaluate(project, python_bin=Path(python))


def test_config_migrate_output_does_not_import(tmp_path):
    """`railway config migrate --lang py` (CLI 5.43.1) writes ``from railway_iac import ...``,
    a module railway-sdk 0.7.0 does not ship: the README must not send users there."""
    project = write(
        tmp_path,
        header="",
        body="""
        from railway_iac import define_railway, project, service


        @define_railway
        def main(ctx=None):
            web = service("web", start="gunicorn --config gunicorn.conf.py")
            return project("web", resources=[web])
        """,
    )
    with pytest.raises(EvaluationError, match="No module named 'railway_iac'"):
        evaluate(project)


def test_undeclared_variables_are_planned_as_deletions(tmp_path):
    project = write(
        tmp_path,
        """
        def main():
            env = {"SECRET_KEY": preserve(), "DJANGO_LOG_LEVEL": "INFO"}
            return project("p", resources=[service("web", env=env)])
        """,
    )
    [web] = graph_from(evaluate(project))["resources"]
    on_railway = ["SECRET_KEY", "DJANGO_LOG_LEVEL", "WEB_CONCURRENCY"]
    assert planned_deletions(web, on_railway) == ["WEB_CONCURRENCY"]
