"""Jinja filters for the template (cookiecutter loads this module through ``_extensions``)."""

import json

from cookiecutter.utils import simple_filter


@simple_filter
def python_string(value):
    """A double-quoted Python string literal for any answer, in the form ``ruff format`` keeps.

    JSON string syntax is valid Python for these escapes; double quotes inside are written as
    ``\\u0022`` so the formatter never prefers single quotes for the literal.
    """
    return json.dumps(str(value), ensure_ascii=False).replace('\\"', "\\u0022")
