"""Jinja filters for the template (cookiecutter loads this module through ``_extensions``)."""

import json
import os
import re
import sys

from cookiecutter.utils import simple_filter

SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@simple_filter
def python_string(value):
    """A double-quoted Python string literal for any answer, in the form ``ruff format`` keeps.

    JSON string syntax is valid Python for these escapes; double quotes inside are written as
    ``\\u0022`` so the formatter never prefers single quotes for the literal.
    """
    return json.dumps(str(value), ensure_ascii=False).replace('\\"', "\\u0022")


@simple_filter
def template_directory(context):
    """The absolute path of the template folder being baked, for the post hook's .cruft.json.

    The hook runs in the new project, so a relative ``_repo_dir`` (``cookiecutter .``) means
    nothing there. Cookiecutter (and cruft) render the hooks from inside the template folder,
    so the working directory at render time is that folder; an absolute ``_repo_dir`` wins.
    """
    repo_dir = str(context.get("_repo_dir") or "")
    return repo_dir if os.path.isabs(repo_dir) else os.getcwd()


@simple_filter
def checked_slug(value):
    """The slug, or the end of the bake with one ERROR line before any folder is created.

    Cookiecutter creates the project folder (named by the slug) before the pre-generation hook
    runs, so a slug such as "../x", "a/b", "/tmp/x" or "" would create or address a folder
    outside the output directory first. cookiecutter.json renders this filter on the slug as a
    private "__" variable, while the answers are read, before anything is written. The full
    rules (keywords, module names, suggestions) stay in hooks/pre_gen_project.py; this checks
    only what keeps the folder name a single plain name.
    """
    if isinstance(value, str) and SLUG_RE.match(value):
        return value
    shown = repr(value if not isinstance(value, str) or len(value) <= 57 else value[:57] + "...")
    print(
        f"ERROR: project_slug {shown} is not valid: use 1-40 lowercase letters, digits and "
        "underscores, starting with a letter",
        file=sys.stderr,
    )
    sys.exit(1)
