"""Bake every supported answer combination and check the output as files.

Fast: no site dependencies are installed here (see test_generated_site.py for that).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import tomllib
import yaml

from tests.support.admin_path import admin_path
from tests.support.baking import bake_into, project_files
from tests.support.combinations import (
    BY_ID,
    COMBINATIONS,
    CONTRACT_DEFAULTS,
    answer,
    expected_slug,
    string_answer_values,
    template_defaults,
)
from tests.support.processes import tail, tool

each_combination = pytest.mark.parametrize(
    "combination", COMBINATIONS, ids=[c.id for c in COMBINATIONS]
)

TEXT_SUFFIXES_SKIP = {".png", ".ico", ".woff2", ".jpg", ".jpeg", ".gif", ".webp", ".br", ".gz"}


def read_text(path: Path) -> str | None:
    if path.suffix in TEXT_SUFFIXES_SKIP:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def run(cmd: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, check=False, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def rel(project: Path, path: Path) -> str:
    return str(path.relative_to(project))


# --------------------------------------------------------------------------- layout


LOCK_FILES = ("uv.lock", "requirements.txt", "requirements-dev.txt")


@each_combination
def test_project_folder_and_expected_files(combination, get_baked):
    project = get_baked(combination.id)
    answers = combination.answers
    slug = expected_slug(answers)
    assert project.name == slug
    assert project.is_dir()

    expected = [
        "manage.py",
        f"{slug}/__init__.py",
        f"{slug}/settings/production.py",
        f"{slug}/health.py",
        f"{slug}/management/commands/deploy.py",
        "gunicorn.conf.py",
        "Procfile",
        "pyproject.toml",
        "Makefile",
        ".pre-commit-config.yaml",
        ".editorconfig",
        ".python-version",
        ".env.example",
        ".env.production.example",
        ".gitignore",
        "deploy.sh",
        ".github/workflows/deploy.yml",
        ".github/dependabot.yml",
        "README.md",
    ]
    missing = [name for name in expected if not (project / name).is_file()]
    assert not missing, f"missing files: {missing}"

    # Railpack picks pip whenever requirements.txt exists, uv when pyproject.toml and uv.lock do.
    locks = {name for name in LOCK_FILES if (project / name).is_file()}
    if answer(answers, "package_manager") == "uv":
        assert locks == {"uv.lock"}, f"uv answer: lock files {sorted(locks)}"
    else:
        assert locks == {"requirements.txt", "requirements-dev.txt"}, f"pip answer: {sorted(locks)}"

    mode = (project / "deploy.sh").stat().st_mode
    assert mode & stat.S_IXUSR, "deploy.sh is not executable"

    iac = (project / ".railway" / "railway.py").is_file()
    toml = (project / "railway.toml").is_file()
    if answer(answers, "railway_config") == "iac":
        assert iac and not toml, f"iac answer: railway.py={iac} railway.toml={toml}"
    else:
        assert toml and not iac, f"railway.toml answer: railway.py={iac} railway.toml={toml}"

    licence = answer(answers, "license")
    licence_file = project / "LICENSE"
    if licence == "Proprietary":
        assert not licence_file.exists(), "a Proprietary project must not ship a LICENSE"
    else:
        assert licence_file.is_file(), f"{licence}: LICENSE missing"
        text = licence_file.read_text(encoding="utf-8")
        marker = {
            "MIT": "Permission is hereby granted, free of charge",
            "BSD-3-Clause": "Redistribution and use in source and binary forms",
        }[licence]
        assert marker in text, f"LICENSE is not the {licence} text"
        author = answers.get("author_name", "CFMP Team")
        assert author in text, "LICENSE does not name the author as answered"


@each_combination
def test_python_version_file(combination, get_baked):
    project = get_baked(combination.id)
    version = (project / ".python-version").read_text(encoding="utf-8").strip()
    assert version == answer(combination.answers, "python_version")


@each_combination
def test_no_hook_leftovers(combination, get_baked):
    """Pruned files are gone, and no template scaffolding leaked into the site."""
    project = get_baked(combination.id)
    records = {".cookiecutter.json", ".cruft.json"}  # the answers, kept for template updates
    caches = {"__pycache__", ".ruff_cache", ".pytest_cache", ".mypy_cache", "node_modules"}
    leftovers = [
        rel(project, path)
        for path in project.rglob("*")
        if path.name not in records
        and (
            "cookiecutter" in path.name
            or path.suffix in {".orig", ".rej", ".j2", ".jinja", ".pyc"}
            or path.name in caches
        )
    ]
    assert not leftovers, f"template leftovers: {leftovers}"
    empty_dirs = [
        rel(project, path)
        for path in project.rglob("*")
        if path.is_dir() and not any(path.iterdir())
    ]
    assert not empty_dirs, f"empty folders (unpruned?): {empty_dirs}"


# --------------------------------------------------------------------------- no Jinja left

GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
JINJA_FRAGMENT = re.compile(r"\{[{%#].*?[}%#]\}", re.DOTALL)
DJANGO_TEMPLATE_SUFFIXES = {".html", ".txt", ".xml"}


def is_django_template(project: Path, path: Path) -> bool:
    return "templates" in path.relative_to(project).parts and (
        path.suffix in DJANGO_TEMPLATE_SUFFIXES
    )


def strip_answers(text: str, answers: dict) -> str:
    """Remove answer values and the Jinja-looking fragments they contain.

    A hostile answer legitimately puts "{{ x }}" into files (verbatim or escaped for Python,
    HTML, shell...); escaping does not change the braces, so removing the fragments themselves
    covers every escaped form too.
    """
    values = string_answer_values(answers)
    for value in values:
        text = text.replace(value, "")
    for value in values:
        for fragment in JINJA_FRAGMENT.findall(value):
            text = text.replace(fragment, "")
    return text


@each_combination
def test_no_unrendered_jinja(combination, get_baked):
    project = get_baked(combination.id)
    problems = []
    for path in project_files(project):
        text = read_text(path)
        if text is None:
            continue
        text = strip_answers(text, combination.answers)
        text = GITHUB_EXPRESSION.sub("", text)  # GitHub / Railway `${{ ... }}` expressions
        name = rel(project, path)
        if re.search(r"\{[{%#][^}]*cookiecutter", text):
            problems.append(f"{name}: a cookiecutter variable or tag left unrendered")
        if is_django_template(project, path):
            # Django template syntax is legitimate here; Jinja-only syntax is not.
            for token in ("{%-", "-%}", "{{-", "-}}", "{% raw", "{%raw", "{% endraw", "{% set "):
                if token in text:
                    problems.append(f"{name}: Jinja-only syntax {token!r}")
            continue
        text = text.replace("${#", "")  # shell: length of a variable
        for token in ("{{", "{%", "{#", "%}", "#}"):
            if token in text:
                line = next(line for line in text.splitlines() if token in line)
                problems.append(f"{name}: {token!r} in {line.strip()[:120]!r}")
    assert not problems, "unrendered template syntax:\n" + "\n".join(problems)


@each_combination
def test_answers_rendered_where_expected(combination, get_baked):
    """Answers reach the files that must carry them (the contract's wiring, not the prose)."""
    project = get_baked(combination.id)
    answers = combination.answers
    readme = (project / "README.md").read_text(encoding="utf-8")
    repository = answer(answers, "github_repository")
    iac = project / ".railway" / "railway.py"
    assert repository in readme or (iac.is_file() and repository in iac.read_text("utf-8")), (
        "neither README nor the IaC file names the GitHub repository"
    )
    service = answer(answers, "railway_service_name")
    deploy_files = (project / "deploy.sh").read_text(encoding="utf-8") + (
        project / ".github" / "workflows" / "deploy.yml"
    ).read_text(encoding="utf-8")
    assert service in deploy_files, "deploy.sh / deploy.yml do not name the Railway service"


# --------------------------------------------------------------------------- parse / lint


LOADERS = {
    ".toml": lambda path: tomllib.loads(path.read_text(encoding="utf-8")),
    ".yml": lambda path: yaml.safe_load(path.read_text(encoding="utf-8")),
    ".yaml": lambda path: yaml.safe_load(path.read_text(encoding="utf-8")),
    ".json": lambda path: json.loads(path.read_text(encoding="utf-8")),
}


@each_combination
def test_structured_files_parse(combination, get_baked):
    project = get_baked(combination.id)
    problems = []
    checked = 0
    for path in project_files(project):
        loader = LOADERS.get(path.suffix)
        if loader is None:
            continue
        checked += 1
        try:
            loader(path)
        except Exception as exc:
            problems.append(f"{rel(project, path)}: {exc}")
    assert checked >= 2, "expected at least the GitHub YAML files"
    assert not problems, "files that do not parse:\n" + "\n".join(problems)


@each_combination
def test_python_compiles(combination, get_baked):
    project = get_baked(combination.id)
    problems = []
    files = [path for path in project_files(project) if path.suffix == ".py"]
    assert files
    for path in files:
        try:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        except SyntaxError as exc:
            problems.append(f"{rel(project, path)}:{exc.lineno}: {exc.msg}")
    assert not problems, "\n".join(problems)


def has_ruff_config(project: Path) -> bool:
    if (project / "ruff.toml").is_file() or (project / ".ruff.toml").is_file():
        return True
    pyproject = project / "pyproject.toml"
    if pyproject.is_file():
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        return "ruff" in data.get("tool", {})
    return False


@each_combination
def test_ruff(combination, get_baked):
    project = get_baked(combination.id)
    ruff = tool("ruff")
    extra = [] if has_ruff_config(project) else ["--line-length", "100"]
    check = run([ruff, "check", "--no-cache", *extra, "."], project)
    assert check.returncode == 0, "ruff check:\n" + tail(check.stdout + check.stderr)
    fmt = run([ruff, "format", "--check", "--no-cache", *extra, "."], project)
    assert fmt.returncode == 0, "ruff format --check:\n" + tail(fmt.stdout + fmt.stderr)


@each_combination
def test_shellcheck(combination, get_baked):
    project = get_baked(combination.id)
    scripts = sorted(
        {project / "deploy.sh", *(p for p in project_files(project) if p.suffix == ".sh")}
    )
    assert (project / "deploy.sh").is_file()
    proc = run([tool("shellcheck"), *map(str, scripts)], project)
    assert proc.returncode == 0, "shellcheck:\n" + tail(proc.stdout + proc.stderr)


@each_combination
def test_github_files_validate(combination, get_baked):
    project = get_baked(combination.id)
    workflows = sorted((project / ".github" / "workflows").glob("*.y*ml"))
    assert project / ".github" / "workflows" / "deploy.yml" in workflows
    checker = tool("check-jsonschema")
    proc = run(
        [checker, "--builtin-schema", "vendor.github-workflows", *map(str, workflows)], project
    )
    assert proc.returncode == 0, "workflow schema:\n" + tail(proc.stdout + proc.stderr)
    proc = run(
        [
            checker,
            "--builtin-schema",
            "vendor.dependabot",
            str(project / ".github" / "dependabot.yml"),
        ],
        project,
    )
    assert proc.returncode == 0, "dependabot schema:\n" + tail(proc.stdout + proc.stderr)


@each_combination
def test_actionlint(combination, get_baked, actionlint):
    project = get_baked(combination.id)
    workflows = sorted((project / ".github" / "workflows").glob("*.y*ml"))
    assert workflows
    env = {**os.environ, "PATH": f"{tool('shellcheck').rsplit('/', 1)[0]}:{os.environ['PATH']}"}
    proc = subprocess.run(
        [*actionlint, *map(str, workflows)],
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, "actionlint:\n" + tail(proc.stdout + proc.stderr)


# --------------------------------------------------------------------------- reproducible

SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$|DSN", re.IGNORECASE)


def env_lines(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and "=" in stripped:
            key, _, value = stripped.partition("=")
            out[key.removeprefix("export ").strip()] = value
    return out


@pytest.mark.parametrize(
    "combination",
    [BY_ID["default"], BY_ID["hostile-name-py313"]],
    ids=["default", "hostile-name-py313"],
)
def test_same_answers_same_files(combination, tmp_path, cookiecutter_config):
    """Two bakes with the same answers: identical files, except the fresh secrets in .env."""

    # The admin path is drawn at random per bake, like the .env secrets: pin it to compare.
    answers = {**combination.answers, "admin_url": "staff-pinned/"}
    first = bake_into(tmp_path / "one", answers, cookiecutter_config)
    second = bake_into(tmp_path / "two", answers, cookiecutter_config)
    files_one = {rel(first, p) for p in project_files(first)}
    files_two = {rel(second, p) for p in project_files(second)}
    assert files_one == files_two
    differing = []
    for name in sorted(files_one - {".env"}):
        a, b = first / name, second / name
        if a.read_bytes() != b.read_bytes():
            differing.append(name)
        elif stat.S_IMODE(a.stat().st_mode) != stat.S_IMODE(b.stat().st_mode):
            differing.append(f"{name} (mode)")
    assert not differing, f"files that differ between two identical bakes: {differing}"

    assert ".env" in files_one, "the post-gen hook should write a local .env"
    env_one, env_two = env_lines(first / ".env"), env_lines(second / ".env")
    assert env_one.keys() == env_two.keys()
    assert env_one.get("SECRET_KEY"), ".env has no SECRET_KEY"
    assert env_one["SECRET_KEY"] != env_two["SECRET_KEY"], "SECRET_KEY is not fresh per bake"
    for key in env_one:
        if not SECRET_NAME.search(key):
            assert env_one[key] == env_two[key], f".env {key} differs between bakes"


def test_contract_defaults_match_cookiecutter_json():
    """The expectations in combinations.py follow cookiecutter.json."""
    defaults = template_defaults()
    for key, value in CONTRACT_DEFAULTS.items():
        if key == "github_repository_owner":
            assert defaults["github_repository"].startswith(value + "/")
        else:
            assert defaults[key] == value, f"cookiecutter.json default {key}={defaults[key]!r}"


def test_each_bake_draws_its_own_admin_path(get_baked, tmp_path, cookiecutter_config):
    """Two default bakes: two different admin paths, neither admin/."""
    paths = [
        admin_path(get_baked("default"), "cfmp"),
        admin_path(bake_into(tmp_path / "one", {}, cookiecutter_config), "cfmp"),
    ]
    assert paths[0] != paths[1], paths
    assert all(re.fullmatch(r"/staff-[a-z]{16}/", path) for path in paths), paths
