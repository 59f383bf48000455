"""The template's own Python passes ruff: tests, bench, scripts, the Jinja extensions, the hooks.

The hooks hold Jinja (the answers are rendered into them), so they are linted as cookiecutter
renders them with the default answers, through cookiecutter's own Jinja environment. The site
folder is left to the baked site's own checks (test_bake.py runs ruff in every bake).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.combinations import TEMPLATE_DIR, template_defaults
from tests.support.processes import tail, tool

#: What `.ci/run` and the template's CI lint before the tests (keep the three in step).
LINTED = ["tests", "bench", "scripts", "local_extensions.py"]
#: Rules that do not apply to a rendered hook, and why.
RENDERED_HOOK_IGNORES = {
    "E501": "the answers are rendered in as one JSON line",
    "W291": "a '# {% raw %}' line renders as '# '",
    "S603": "the post-generation hook runs git with arguments it builds itself",
    "S607": "... and finds git on PATH, as a user's shell would",
}


def ruff(*args: str, cwd: Path = TEMPLATE_DIR) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("ruff"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def render_hooks(output_dir: Path) -> list[Path]:
    """Render hooks/*.py with the default answers as cookiecutter does; return the files.

    cookiecutter renders a hook with the full context (the answers and its private ``_``
    variables) in ``create_env_with_context``'s environment, which loads the template's
    ``_extensions`` (local_extensions.py, importable from the repository root).
    """
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config
    from cookiecutter.utils import create_env_with_context

    context = generate_context(context_file=str(TEMPLATE_DIR / "cookiecutter.json"))
    context["cookiecutter"] = prompt_for_config(context, no_input=True)
    context["cookiecutter"].update(
        _template=str(TEMPLATE_DIR),
        _repo_dir=str(TEMPLATE_DIR),
        _output_dir=str(output_dir),
        _checkout=None,
    )
    environment = create_env_with_context(context)
    rendered = []
    for hook in sorted((TEMPLATE_DIR / "hooks").glob("*.py")):
        template = environment.from_string(hook.read_text(encoding="utf-8"))
        target = output_dir / hook.name
        target.write_text(template.render(**context), encoding="utf-8")
        rendered.append(target)
    return rendered


def test_template_python_passes_ruff():
    checked = ruff("check", *LINTED)
    assert checked.returncode == 0, tail(checked.stdout + checked.stderr)
    formatted = ruff("format", "--check", *LINTED)
    assert formatted.returncode == 0, tail(formatted.stdout + formatted.stderr)


def test_ruff_at_the_root_skips_the_templated_site():
    """`ruff check .` reads no templated pyproject.toml (it would fail to parse it)."""
    checked = ruff("check", ".")
    assert checked.returncode == 0, tail(checked.stdout + checked.stderr)
    listed = ruff("check", "--show-files", ".")
    assert "{{cookiecutter.project_slug}}" not in listed.stdout
    assert "local_extensions.py" in listed.stdout


def test_rendered_hooks_pass_ruff(tmp_path):
    hooks = render_hooks(tmp_path)
    assert [hook.name for hook in hooks] == ["post_gen_project.py", "pre_gen_project.py"]
    # The answers really were rendered in: the pre hook's ANSWERS are the defaults.
    pre = (tmp_path / "pre_gen_project.py").read_text(encoding="utf-8")
    answers_line = next(line for line in pre.splitlines() if line.startswith("ANSWERS = "))
    answers = json.loads(answers_line.split("r'''", 1)[1].rsplit("'''", 1)[0])
    assert answers["project_name"] == template_defaults()["project_name"]
    config = str(TEMPLATE_DIR / "pyproject.toml")
    ignore = f"lint.extend-ignore = {json.dumps(sorted(RENDERED_HOOK_IGNORES))}"
    names = [str(hook) for hook in hooks]
    checked = ruff("check", "--config", config, "--config", ignore, *names, cwd=tmp_path)
    assert checked.returncode == 0, tail(checked.stdout + checked.stderr)
    # Not `ruff format --check`: it would wrap the rendered JSON line, which no one edits.
