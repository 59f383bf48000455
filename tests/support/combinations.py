"""The answer combinations the template supports and the tests bake.

Each combination is an id (used in test ids, database names, cache folders) and the answers given
to cookiecutter as ``extra_context``; keys left out take the defaults from cookiecutter.json.
The helpers below work out what an answer resolves to (slug, repository, ...) from the contract,
independently of the template, so tests can compare the generated files against them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from slugify import slugify

TEMPLATE_DIR = Path(__file__).resolve().parents[2]


class Combination(NamedTuple):
    id: str
    answers: dict[str, Any]


COMBINATIONS: list[Combination] = [
    Combination("default", {}),
    # The other package manager: today's hashed requirements files instead of uv.lock.
    Combination("pip", {"package_manager": "pip"}),
    Combination("redis", {"use_redis": True}),
    Combination("legacy-railway-toml", {"railway_config": "railway.toml"}),
    Combination("bucket", {"media_storage": "bucket"}),
    Combination("django-6.1", {"django_version": "6.1"}),
    Combination(
        "no-sentry-smtp-proprietary",
        {
            "use_sentry": False,
            "email_backend": "smtp",
            "license": "Proprietary",
            "admin_two_factor": True,
        },
    ),
    Combination("api-mail", {"email_backend": "api"}),
    Combination(
        "custom-domain-py310-bsd",
        {
            "custom_domain": "food.example.org",
            "python_version": "3.10",
            "license": "BSD-3-Clause",
            "time_zone": "Europe/Berlin",
        },
    ),
    Combination(
        "hostile-name-py313",
        {
            "project_name": 'Tom\'s "Food" \\ $HOME `id` {{ x }} {% y %} <b>&',
            "project_slug": "food_bank",
            "author_name": 'O\'Brien "\\" $(rm -rf /)',
            "project_description": 'Food & <stuff> "quoted" {{ no }}',
            "python_version": "3.13",
            "deploy_branches": "main,release/2026.1",
            "railway_service_name": "food-web",
        },
    ),
]

BY_ID: dict[str, Combination] = {combination.id: combination for combination in COMBINATIONS}
IDS: list[str] = [combination.id for combination in COMBINATIONS]


def combination(combination_id: str) -> Combination:
    """Return the combination with this id."""
    return BY_ID[combination_id]


def template_defaults() -> dict[str, Any]:
    """Return the first value of every question in cookiecutter.json (a choice's first)."""
    raw = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
    return {
        key: value[0] if isinstance(value, list) else value
        for key, value in raw.items()
        if not key.startswith("_")
    }


# What the contract says the defaults are (checked against cookiecutter.json by the tests, so a
# changed default is noticed rather than silently followed).
CONTRACT_DEFAULTS: dict[str, Any] = {
    "project_name": "CFMP",
    "github_repository_owner": "your-org",
    "custom_domain": "",
    "django_version": "5.2",
    "python_version": "3.12",
    "package_manager": "uv",
    "railway_config": "iac",
    "railway_service_name": "web",
    "deploy_branches": "main,FALL2025",
    "use_sentry": True,
    "use_redis": False,
    "admin_two_factor": False,
    "email_backend": "console",
    "media_storage": "none",
    "time_zone": "UTC",
    "license": "MIT",
}


def answer(answers: dict[str, Any], key: str) -> Any:
    """Return the answer for ``key``: the given one, else the contract's default."""
    if key in answers:
        return answers[key]
    if key == "project_slug":
        return expected_slug(answers)
    if key == "github_repository":
        return expected_repository(answers)
    return CONTRACT_DEFAULTS[key]


def expected_slug(answers: dict[str, Any]) -> str:
    """Return the slug the answers give: the answered one, else the slugified name."""
    if "project_slug" in answers:
        return answers["project_slug"]
    name = answers.get("project_name", CONTRACT_DEFAULTS["project_name"])
    return slugify(name, separator="_")


def expected_repository(answers: dict[str, Any]) -> str:
    """Return the GitHub repository the answers give (owner/slug with dashes by default)."""
    if "github_repository" in answers:
        return answers["github_repository"]
    owner = CONTRACT_DEFAULTS["github_repository_owner"]
    return f"{owner}/{expected_slug(answers).replace('_', '-')}"


def deploy_branches(answers: dict[str, Any]) -> list[str]:
    """Return the deploy branches the answers give, in order."""
    raw = answer(answers, "deploy_branches")
    return [branch.strip() for branch in raw.split(",") if branch.strip()]


def extra_context(answers: dict[str, Any]) -> dict[str, Any]:
    """Return the answers as cookiecutter's ``extra_context`` must carry them to arrive verbatim.

    With ``no_input`` cookiecutter renders every answer as a Jinja template before the template
    sees it (a typed answer is not rendered), so "{% y %}" in a name would be a syntax error and
    "{{ x }}" would vanish. Wrapping such values in a raw block delivers the literal text, the
    same value an interactive user typing it would give.
    """
    out = {}
    for key, value in answers.items():
        if isinstance(value, str) and any(token in value for token in ("{{", "{%", "{#")):
            assert "{% endraw %}" not in value
            value = "{% raw %}" + value + "{% endraw %}"
        out[key] = value
    return out


def string_answer_values(answers: dict[str, Any]) -> list[str]:
    """Return every string answer (given or defaulted) that could end up verbatim in a file."""
    values = {value for value in answers.values() if isinstance(value, str) and value}
    values.add(expected_slug(answers))
    values.add(expected_repository(answers))
    return sorted(values, key=len, reverse=True)
