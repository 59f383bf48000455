"""Jinja filters for the template (cookiecutter loads this module through ``_extensions``)."""

import json
import os

from cookiecutter.utils import simple_filter


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
