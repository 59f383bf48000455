#!/usr/bin/env python3
"""Regenerate the generated site's dependency declarations and locks from one table.

The template ships its site's locks so that baking never resolves anything and needs no
network. This maintainers' script is the only thing that resolves them.

**To add a dependency, add one line to DEPENDENCIES below** and run the script: a package every
site needs (``Dependency("django-axes")``), one behind an answer (``Dependency("redis",
when="cookiecutter.use_redis")``), one only some Django lines need (``lines=("5.2",)``), or a
development tool (``group="dev"``). Nothing else is edited by hand.

What it writes, for each Django line (``DJANGO_LINES``) in one Jinja ``{% if %}`` block each:

* ``{{cookiecutter.project_slug}}/pyproject.toml``, the part between the ``{# lock.py #}``
  comments: ``[project]`` with the production dependencies, the ``dev`` dependency group, and
  ``[tool.uv]`` (uv sites only: a pip site's pyproject holds tool settings alone). Each
  dependency behind an answer sits in its own ``{% if %}``. A requirement written without a
  version gets ``>=`` the locked version, as ``uv add`` would write it.
* ``{{cookiecutter.project_slug}}/uv.lock``: ONE universal lock (``uv lock``, every file's
  hash, for every Python from the line's lowest and every platform) resolved with every
  optional dependency present. Each package that only some answers need is wrapped in an
  ``{% if %}`` of those answers (computed from the lock's dependency graph), so a site gets
  exactly the packages its answers reach, at the pins of the one resolution.
* ``requirements.txt`` and ``requirements-dev.txt`` (pip sites): ``uv export`` of the lock, so
  pip and uv sites install the same pins; the dev file is ``-r requirements.txt`` plus the
  development-only packages.

So the number of locks is one per Django line, whatever the number of options: a new option
adds ``{% if %}`` lines, not a copy of the lock.

Before writing, it renders every combination of the answers the table's ``when`` tests read
(with the choices of cookiecutter.json) as cookiecutter would, and checks each: ``uv lock
--locked --offline`` accepts the rendered pyproject.toml and uv.lock (what Railpack's ``uv sync
--locked`` requires), ``uv export --frozen`` of that lock equals the rendered requirements files,
every direct dependency is in them and no package an answer does not need is, and nothing names
a path on this machine.

Usage (from the template's root, in the virtual environment of its requirements-dev.txt, which
provides the pinned uv and jinja2; this needs the network to PyPI):

    .venv/bin/python scripts/lock.py                   # lock date: today (UTC)
    .venv/bin/python scripts/lock.py --date 2026-11-28
    .venv/bin/python scripts/lock.py --exclude-newer 2026-11-28T00:00:00Z   # re-create an old lock

Then review ``git diff`` (the direct dependencies' versions, any new package) and run the
template's tests. To add a Django line (e.g. "7.0"), add it to DJANGO_LINES and to the
django_version choices in cookiecutter.json (and to SUPPORTED_PYTHON in
hooks/pre_gen_project.py), and run the script again.

The output depends only on what PyPI serves (pin it with --exclude-newer) and on --date: uv
sorts what it writes, the combinations come in a fixed order, and no other time stamp is kept
(the lock's ``[options] exclude-newer`` is dropped: a site's own ``uv lock`` must not inherit it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = ROOT / "{{cookiecutter.project_slug}}"


@dataclass(frozen=True)
class DjangoLine:
    """A django_version choice in cookiecutter.json and what its lock needs."""

    python: str  # the lowest Python the line supports: the lock is resolved for it and newer
    spec: str  # the requirement that selects the line's newest patch release


DJANGO_LINES: dict[str, DjangoLine] = {
    "5.2": DjangoLine("3.10", "Django>=5.2,<5.3"),
    "6.1": DjangoLine("3.12", "Django>=6.1,<6.2"),
}


@dataclass(frozen=True)
class Dependency:
    """One direct requirement of the site: a line of the table below.

    ``requirement`` is PEP 508 (``name[extras]`` and, if wanted, a version range; without one
    the pyproject gets ``>=`` the locked version). ``when`` is a Jinja test on the answers
    (``cookiecutter.use_redis``, ``cookiecutter.email_backend == "api"``); empty: every site.
    ``group`` is "" for production, else the dependency group (``dev``). ``lines`` limits it to
    some Django lines (empty: all).
    """

    requirement: str
    when: str = ""
    group: str = ""
    lines: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return normalize(re.split(r"[\[=<>!~ ;]", self.requirement, maxsplit=1)[0])


# THE table. One line per direct dependency; see Dependency for the fields.
DEPENDENCIES: list[Dependency] = [
    # Production, every site.
    Dependency("gunicorn"),
    Dependency("psycopg[binary]"),
    Dependency("whitenoise[brotli]"),
    Dependency("dj-database-url"),
    # 5.2 has no Content-Security-Policy of its own (6.x has SECURE_CSP built in).
    Dependency("django-csp>=4,<5", lines=("5.2",)),
    # The admin's guards: login throttling (django-axes), Argon2 hashing, JSON logs for
    # Railway's log explorer, and TOTP two-factor (django-otp, segno for the QR code; in every
    # lock so that turning admin_two_factor on later needs no new lock).
    Dependency("django-axes"),
    Dependency("argon2-cffi"),
    Dependency("python-json-logger"),
    Dependency("django-otp"),
    Dependency("segno"),
    # The task queue in PostgreSQL (the worker service); on 5.2 it runs on the django-tasks
    # backport of 6.x's django.tasks.
    Dependency("django-tasks-db"),
    Dependency("django-tasks", lines=("5.2",)),
    # Mail through an e-mail service's HTTPS API (the api answer; importable by every site).
    Dependency("django-anymail"),
    # Production, behind an answer.
    Dependency("sentry-sdk[django]", when="cookiecutter.use_sentry"),
    Dependency("redis", when="cookiecutter.use_redis"),
    # Uploaded files in a Railway Storage Bucket (S3 API); Pillow for ImageField.
    Dependency("django-storages[s3]", when='cookiecutter.media_storage == "bucket"'),
    Dependency("pillow", when='cookiecutter.media_storage == "bucket"'),
    # Development only (the `dev` group; requirements-dev.txt for pip sites).
    Dependency("ruff", group="dev"),  # lint and format
    Dependency("python-dotenv", group="dev"),  # settings.local reads .env
    Dependency("tblib", group="dev"),  # tracebacks from `manage.py test --parallel`
    Dependency("pre-commit", group="dev"),  # runs .pre-commit-config.yaml
    # refuses migrations the release still running during a deploy would not survive
    Dependency("django-migration-linter", group="dev"),
]

DEFAULT_INDEX = "https://pypi.org/simple"
INSTALL_HINT = "pip install --require-hashes -r {name}"
COOKIECUTTER_JSON = ROOT / "cookiecutter.json"
PYPROJECT = "pyproject.toml"
# lock.py owns the part of the site's pyproject.toml between these two Jinja comments (they
# render to nothing).
BEGIN = "{# lock.py: from here to the end mark, written by scripts/lock.py #}"
END = "{#- lock.py: end #}"
# Rendering a lock for answers that have none fails the bake with this name in the message
# (cookiecutter renders with StrictUndefined), rather than writing a site without a lock.
NO_LOCK = "{{ cookiecutter.ERROR_no_lock_for_this_django_version__run_scripts_lock_py }}"
# The project's name in pyproject.toml and uv.lock: the slug as a normalized package name.
PROJECT_NAME = "{{ cookiecutter.project_slug.strip('_')|replace('_', '-') }}"
PLACEHOLDER = "cfmp-lock-placeholder"
UV_ONLY = 'cookiecutter.package_manager == "uv"'


class LockError(RuntimeError):
    """A resolution failed or produced something we will not ship."""


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def line_key(line: str) -> tuple[int, ...]:
    return tuple(int(part) for part in line.split("."))


def deps_for(line: str) -> list[Dependency]:
    return [d for d in DEPENDENCIES if not d.lines or line in d.lines]


def conditions() -> list[str]:
    """Return the distinct ``when`` tests of the table, in table order."""
    return list(dict.fromkeys(d.when for d in DEPENDENCIES if d.when))


# --- which answers reach which package ------------------------------------------------------


def jinja_condition(true_sets: set[frozenset[str]], every: list[frozenset[str]]) -> str | None:
    """Return a Jinja test true for exactly these of the possible assignments (None: always).

    ``every`` lists the assignments some answers give (two tests on one answer never hold
    together); the test is the simplest that fits: one ``when``, an ``or`` of them, an ``and``,
    else an ``or`` of the assignments themselves.
    """
    possible = set(every)
    tests = sorted({t for a in every for t in a})
    if true_sets >= possible:
        return None
    if not true_sets:
        raise LockError("a package no combination needs")
    subsets = [c for n in range(1, len(tests) + 1) for c in itertools.combinations(tests, n)]
    for some in subsets:  # any of these answers needs it
        if true_sets == {a for a in possible if a & set(some)}:
            return " or ".join(f"({t})" for t in some) if len(some) > 1 else some[0]
    for needed in subsets:  # only all of them together need it
        if true_sets == {a for a in possible if set(needed) <= a}:
            return " and ".join(f"({t})" for t in needed)
    terms = [
        " and ".join(f"({t})" if t in a else f"not ({t})" for t in tests)
        for a in sorted(true_sets, key=sorted)
    ]
    return " or ".join(f"({term})" for term in terms)


def assignments(line: str, tests: list[str]) -> list[frozenset[str]]:
    """Return the assignments of ``tests`` that some answers give, in a fixed order."""
    found = {truth(ctx, tests) for ctx in contexts(line)}
    return sorted(found, key=lambda a: (-len(a), sorted(a)))


def reachable(lock: dict, roots: list[str]) -> set[str]:
    """Return the packages of the lock that the named direct dependencies need, transitively."""
    edges: dict[str, set[str]] = {}
    for package in lock["package"]:
        out = edges.setdefault(package["name"], set())
        out.update(d["name"] for d in package.get("dependencies", []))
        for extra in package.get("optional-dependencies", {}).values():
            out.update(d["name"] for d in extra)
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(edges.get(name, ()))
    return seen


# --- resolving --------------------------------------------------------------------------------


class Uv:
    """Runs uv in private temporary folders with relative file names."""

    def __init__(self, uv: str, index_url: str, exclude_newer: str | None) -> None:
        self.uv = uv
        self.index_url = index_url
        self.exclude_newer = exclude_newer

    def run(self, args: list[str], cwd: Path, what: str) -> str:
        proc = subprocess.run(  # a fixed argument list, no shell
            [self.uv, *args, "--no-config", "--quiet"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        if proc.returncode != 0:
            raise LockError(f"uv {' '.join(args)} failed for {what}:\n{proc.stderr.strip()}")
        return proc.stdout

    def lock(self, pyproject: str, python: str, what: str) -> str:
        with tempfile.TemporaryDirectory(prefix="cfmp-lock-") as tmp:
            work = Path(tmp)
            (work / PYPROJECT).write_text(pyproject)
            args = ["lock", "--default-index", self.index_url, "--python", interpreter(python)]
            if self.exclude_newer:
                args += ["--exclude-newer", self.exclude_newer]
            self.run(args, work, what)
            text = (work / "uv.lock").read_text()
        if tmp in text or str(ROOT) in text:
            raise LockError(f"{what}: uv.lock names a path on this machine")
        # The resolution's cut-off is ours, not the site's (its own `uv lock` must not keep it).
        return re.sub(r"\n\[options\]\n(?:[^\[\n][^\n]*\n)*", "", text, count=1)

    def check_and_export(
        self, pyproject: str, lock: str, python: str, what: str
    ) -> tuple[str, str]:
        """Return (production, with dev) hashed requirements of a rendered site's lock.

        ``uv lock --locked --offline`` first: it fails when the lock does not satisfy the
        pyproject, which is what ``uv sync --locked`` (Railpack) would refuse.
        """
        with tempfile.TemporaryDirectory(prefix="cfmp-lock-") as tmp:
            work = Path(tmp)
            (work / PYPROJECT).write_text(pyproject)
            (work / "uv.lock").write_text(lock)
            self.run(["lock", "--locked", "--offline", "--python", interpreter(python)], work, what)
            common = ["export", "--frozen", "--no-header", "--no-annotate", "--no-emit-project"]
            prod = self.run([*common, "--no-dev"], work, what)
            full = self.run(common, work, what)
            if (work / "uv.lock").read_text() != lock:
                raise LockError(f"{what}: uv changed the rendered uv.lock")
        return prod, full


# --- the texts ----------------------------------------------------------------------------------


def toml_list(items: list[str], indent: str = "    ") -> list[str]:
    return [f"{indent}{json.dumps(item)}," for item in items]


def wrap(cond: str | None, lines: list[str]) -> list[str]:
    """Return lines inside ``{%- if cond %}`` (each tag eats the newline before it)."""
    if cond is None:
        return lines
    return ["{%- if " + cond + " %}", *lines, "{%- endif %}"]


def pyproject_section(line: str, specs: dict[str, str]) -> str:
    """Return the lock.py part of pyproject.toml for one Django line (Jinja, not rendered)."""
    info = DJANGO_LINES[line]
    out = [
        "[project]",
        f'name = "{PROJECT_NAME}"',
        'version = "0.1.0"',
        f'requires-python = ">={info.python}"',
        "# Production dependencies. `uv add NAME` adds one (and updates uv.lock); `uv lock",
        "# --upgrade-package NAME` moves a pin within the range written here.",
        "dependencies = [",
        *toml_list([info.spec]),
    ]
    groups: dict[str, list[str]] = {}
    for dep in deps_for(line):
        entry = toml_list([specs[dep.name]])
        if dep.group:
            groups.setdefault(dep.group, []).extend(wrap(dep.when or None, entry))
        else:
            out += wrap(dep.when or None, entry)
    out.append("]")
    out += [
        "",
        "[dependency-groups]",
        "# Tools for tests, lint and local settings: installed by `uv sync`, never on Railway",
        "# (Railpack runs `uv sync --locked --no-dev`).",
    ]
    for group, entries in groups.items():
        out += [f"{group} = [", *entries, "]"]
    out += [
        "",
        "[tool.uv]",
        "# A site, not a package to build: uv installs the dependencies, never the project.",
        "package = false",
    ]
    return "\n".join(out)


def render_plain(template: str, true: frozenset[str]) -> str:
    """Render our own ``{%- if test %}`` lines for one assignment (to resolve the lock)."""
    out: list[str] = []
    stack: list[bool] = []
    for ln in template.split("\n"):
        if ln.startswith("{%- if "):
            stack.append(ln[len("{%- if ") : -len(" %}")] in true)
        elif ln == "{%- endif %}":
            stack.pop()
        elif all(stack):
            out.append(ln)
    return "\n".join(out).replace(PROJECT_NAME, PLACEHOLDER)


def lock_template(lock_text: str, tests: list[str], line: str) -> str:
    """Return the full lock with an ``{% if %}`` around each package only some answers need."""
    lock = tomllib.loads(lock_text)
    root = next(p for p in lock["package"] if p["source"].get("virtual") == ".")
    when = {d.name: d.when for d in deps_for(line)}
    direct = [d["name"] for d in root.get("dependencies", [])]
    for group in root.get("dev-dependencies", {}).values():
        direct += [d["name"] for d in group]
    reach: dict[str, set[frozenset[str]]] = {}
    every = assignments(line, tests)
    for true in every:
        roots = [n for n in direct if not when.get(n) or when[n] in true]
        for name in reachable(lock, roots) - {root["name"]}:
            reach.setdefault(name, set()).add(true)

    head, *chunks = lock_text.split("\n[[package]]\n")
    out = head
    for chunk in chunks:
        name = re.match(r'name = "([^"]+)"', chunk)
        if name is None:
            raise LockError(f"Django {line}: a package entry without a name in uv.lock")
        if name.group(1) == root["name"]:
            body = []
            for ln in chunk.split("\n"):
                ref = re.match(r'\s*\{ name = "([^"]+)"', ln)
                if ln == f'name = "{PLACEHOLDER}"':
                    ln = f'name = "{PROJECT_NAME}"'
                if ref and when.get(ref.group(1)):
                    body += wrap(when[ref.group(1)], [ln])
                else:
                    body.append(ln)
            out += "\n[[package]]\n" + "\n".join(body)
            continue
        cond = jinja_condition(reach[name.group(1)], every)
        piece = "\n[[package]]\n" + chunk
        # The tags stand where the blank line between entries is: `{% if %}` then the entry.
        out += piece if cond is None else "{% if " + cond + " %}" + piece + "{% endif %}"
    if PLACEHOLDER in out:
        raise LockError(f"Django {line}: the placeholder project name is left in uv.lock")
    return out


Entry = tuple[str, str]  # (normalized name, the requirement's lines)


def split_requirements(text: str, what: str) -> list[Entry]:
    entries: list[Entry] = []
    for block in re.split(r"\n(?=\S)", text.strip()):
        first = block.split("\n", 1)[0]
        if "==" not in first or "--hash=sha256:" not in block:
            raise LockError(f"{what}: not pinned with hashes: {first}")
        entries.append((normalize(re.split(r"[=; \[]", first, maxsplit=1)[0]), block))
    return entries


def merge(per: dict[frozenset[str], list[Entry]]) -> str:
    """Return one requirements body with an ``{%- if %}`` around entries some answers lack."""
    where: dict[Entry, set[frozenset[str]]] = {}
    for true, entries in per.items():
        for entry in entries:
            where.setdefault(entry, set()).add(true)
    out: list[str] = []
    for entry in sorted(where, key=lambda e: (e[0], e[1])):
        out += wrap(jinja_condition(where[entry], list(per)), entry[1].split("\n"))
    return "\n".join(out)


def by_line(blocks: list[tuple[str, str]], dash: bool = True) -> str:
    """Join per-Django-line bodies into one ``{% if %}`` chain ending in NO_LOCK."""
    out = ""
    for i, (line, body) in enumerate(blocks):
        tag = "if" if i == 0 else "elif"
        out += ("{%- " if dash or i else "{% ") + f'{tag} cookiecutter.django_version == "{line}"'
        out += (" %}\n" if dash else " -%}\n") + body + "\n"
    out += ("{%- else %}\n" if dash else "{%- else -%}\n") + NO_LOCK + "\n{%- endif %}\n"
    return out


def header(kind: str, name: str, date: str) -> str:
    what = {
        "requirements.txt": "Production dependencies: the complete lock",
        "requirements-dev.txt": "Development dependencies: the production lock plus the tools",
    }[kind]
    return "\n".join(
        [
            f"# {what}, every package pinned with the hashes of the files it may be installed",
            "# from, for every supported Python version and platform. The same pins as uv.lock.",
            f"# Generated on {date} by scripts/lock.py of the cfmp-railway template (uv lock, then",
            "# uv export). Do not edit it by hand.",
            f"# Install: {INSTALL_HINT.format(name=name)}",
        ]
    )


# --- everything -----------------------------------------------------------------------------------


@dataclass
class Result:
    pyproject_blocks: list[tuple[str, str]]
    lock_blocks: list[tuple[str, str]]
    prod_blocks: list[tuple[str, str]]
    dev_blocks: list[tuple[str, str]]
    pins: dict[str, list[str]]


def versions(lock_text: str) -> dict[str, list[str]]:
    """Return each package's locked versions, lowest first (a fork by Python has several)."""
    from packaging.version import Version

    out: dict[str, list[str]] = {}
    for package in tomllib.loads(lock_text)["package"]:
        out.setdefault(package["name"], []).append(package["version"])
    return {name: sorted(found, key=Version) for name, found in out.items()}


def lock_line(uv: Uv, line: str) -> tuple[str, str, str, str, list[str]]:
    """Resolve one Django line; return its pyproject section, lock, requirements and pins."""
    python = DJANGO_LINES[line].python
    tests = [t for t in conditions() if any(d.when == t for d in deps_for(line))]
    everything = frozenset(tests)
    bare = {d.name: d.requirement for d in deps_for(line)}
    print(f"resolving Django {line} (Python {python}+) with every option ...", file=sys.stderr)
    first = uv.lock(render_plain(pyproject_section(line, bare), everything), python, line)
    locked = versions(first)
    # A requirement without a version range gets `>=` the locked version, as `uv add` writes it
    # (the lowest one where the lock forks by Python version, e.g. pre-commit on 3.10).
    specs = {
        name: req if re.search(r"[=<>!~]", req) else f"{req}>={locked[name][0]}"
        for name, req in bare.items()
    }
    section = pyproject_section(line, specs)
    lock_text = uv.lock(render_plain(section, everything), python, line)
    if versions(lock_text) != locked:
        raise LockError(f"Django {line}: the pins moved when the lower bounds were written")
    template = lock_template(lock_text, tests, line)

    env = jinja_env()
    prod_per: dict[frozenset[str], list[Entry]] = {}
    dev_per: dict[frozenset[str], list[Entry]] = {}
    for true in assignments(line, tests):
        ctx = jinja_context(line, true, tests)
        what = f"Django {line}, {sorted(true) or 'no options'}"
        rendered_pyproject = env.from_string(section).render(cookiecutter=ctx)
        rendered_lock = env.from_string(template).render(cookiecutter=ctx)
        prod, full = uv.check_and_export(rendered_pyproject, rendered_lock, python, what)
        prod_entries = split_requirements(prod, what)
        full_entries = split_requirements(full, what)
        prod_names = {name for name, _ in prod_entries}
        for name, text in full_entries:
            if name in prod_names and (name, text) not in prod_entries:
                raise LockError(f"{what}: the dev export differs from production for {name}")
        wanted = {d.name for d in deps_for(line) if not d.group and (not d.when or d.when in true)}
        unwanted = {d.name for d in deps_for(line) if d.when and d.when not in true}
        if not wanted | {"django"} <= prod_names or unwanted & prod_names:
            raise LockError(f"{what}: wrong production package set {sorted(prod_names)}")
        prod_per[true] = prod_entries
        dev_per[true] = [e for e in full_entries if e[0] not in prod_names]
    pins = [f"{name}=={'|'.join(locked[name])}" for name in sorted(["django", *bare])]
    return section, template, merge(prod_per), merge(dev_per), pins


def jinja_env():
    try:
        import jinja2
    except ImportError as exc:  # pragma: no cover - jinja2 comes with cookiecutter
        raise LockError("jinja2 is needed: run this in the template's dev environment") from exc
    # Plain text, not HTML: no autoescape, as in cookiecutter's own environment.
    return jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)  # noqa: S701


def answer_choices() -> dict[str, list]:
    """Return each question's possible answers: a choice list, or both booleans."""
    raw = json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))
    out: dict[str, list] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            out[key] = value
        elif isinstance(value, bool):
            out[key] = [value, not value]
    return out


def contexts(line: str) -> list[dict]:
    """Return every combination of the answers the table's tests read, for one Django line."""
    keys = sorted({k for t in conditions() for k in re.findall(r"cookiecutter\.(\w+)", t)})
    choices = answer_choices()
    for key in keys:
        if key not in choices:
            raise LockError(f"a `when` test reads cookiecutter.{key}, which is not a choice")
    base = {
        "django_version": line,
        "python_version": DJANGO_LINES[line].python,
        "project_slug": "cfmp",
        "package_manager": "uv",
    }
    return [
        {**base, **dict(zip(keys, values, strict=True))}
        for values in itertools.product(*(choices[k] for k in keys))
    ]


def truth(ctx: dict, tests: list[str]) -> frozenset[str]:
    env = jinja_env()
    return frozenset(t for t in tests if env.compile_expression(t)(cookiecutter=ctx))


def jinja_context(line: str, true: frozenset[str], tests: list[str]) -> dict:
    """Return answers under which exactly ``true`` holds (one exists for every assignment)."""
    for ctx in contexts(line):
        if truth(ctx, tests) == true:
            return ctx
    raise LockError(f"Django {line}: no answers make exactly {sorted(true)} true")


def lock_all(uv: Uv, date: str) -> Result:
    result = Result([], [], [], [], {})
    for line in sorted(DJANGO_LINES, key=line_key):
        section, template, prod, dev, pins = lock_line(uv, line)
        result.pyproject_blocks.append((line, section))
        result.lock_blocks.append((line, template))
        result.prod_blocks.append((line, prod))
        result.dev_blocks.append((line, dev))
        result.pins[line] = pins
    return result


def write_pyproject(path: Path, blocks: list[tuple[str, str]]) -> str:
    text = path.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise LockError(f"{path}: the {BEGIN!r} and {END!r} marks are missing")
    body = by_line(blocks)
    generated = "{%- if " + UV_ONLY + " %}\n" + body + "{% endif %}\n"
    return text[: start + len(BEGIN)] + "\n" + generated + text[end:]


def check_rendered(files: dict[str, str]) -> None:
    """Render every combination of the files as cookiecutter would and check them."""
    import jinja2

    env = jinja_env()
    for line in DJANGO_LINES:
        for ctx in contexts(line):
            for name, source in files.items():
                text = env.from_string(source).render(cookiecutter=ctx)
                where = f"{name} for {ctx}"
                if "{{" in text or "{%" in text or "{#" in text:
                    raise LockError(f"{where}: Jinja left over")
                if "\n\n\n" in text or "\t" in text or str(ROOT) in text:
                    raise LockError(f"{where}: blank lines, a tab or a path on this machine")
                if name.startswith("requirements"):
                    if not text.startswith("# ") or "\n\n" in text:
                        raise LockError(f"{where}: bad start or a blank line")
                    if INSTALL_HINT.format(name=name) not in text:
                        raise LockError(f"{where}: no install hint")
                if name == "uv.lock":
                    tomllib.loads(text)
    for name, source in files.items():
        if name == PYPROJECT:
            continue
        try:
            env.from_string(source).render(cookiecutter={"django_version": "0.0"})
        except jinja2.UndefinedError:
            continue
        raise LockError(f"{name}: rendering for an unknown Django line did not fail")


@functools.cache
def interpreter(minimum: str) -> str:
    """Return a Python of at least ``minimum`` on this machine (uv lock runs it to resolve).

    The lock is universal (every Python from ``requires-python`` up); uv only needs some
    interpreter the project accepts. PATH first (python3.12 ...), then pyenv's versions.
    """
    major, minor = (int(part) for part in minimum.split("."))
    found = [shutil.which(f"python{major}.{m}") for m in range(minor, 20)]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found += sorted(str(p) for p in pyenv.glob(f"{major}.*/bin/python"))
    for candidate in found:
        if not candidate:
            continue
        proc = subprocess.run(  # a fixed argument list, no shell
            [candidate, "-c", f"import sys; sys.exit(sys.version_info < ({major}, {minor}))"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if proc.returncode == 0:
            return candidate
    raise LockError(
        f"no Python {minimum} or newer found: install one (uv python install {minimum})"
    )


def find_uv(explicit: str | None) -> str:
    if explicit:
        return explicit
    beside = Path(sys.executable).with_name("uv")
    if beside.exists():
        return str(beside)
    found = shutil.which("uv")
    if not found:
        raise LockError("uv not found: install the template's requirements-dev.txt or pass --uv")
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/lock.py",
        description=(
            "Resolve the generated site's locks with uv (needs the network to PyPI) and write"
            " its pyproject.toml dependencies, uv.lock, requirements.txt and requirements-dev.txt."
        ),
        epilog="Django lines and their lowest Python: "
        + ", ".join(f"{k} (Python {v.python}+)" for k, v in DJANGO_LINES.items()),
    )
    parser.add_argument(
        "--date",
        default=dt.datetime.now(dt.timezone.utc).date().isoformat(),
        type=lambda s: dt.date.fromisoformat(s).isoformat(),
        help="lock date written in the headers, YYYY-MM-DD (default: today, UTC)",
    )
    parser.add_argument(
        "--exclude-newer",
        metavar="TIMESTAMP",
        help="passed to uv: ignore releases uploaded after it (RFC 3339), to re-create a lock",
    )
    parser.add_argument(
        "--index-url", default=DEFAULT_INDEX, help=f"package index (default: {DEFAULT_INDEX})"
    )
    parser.add_argument("--uv", help="uv executable (default: the one beside this Python)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=SITE_DIR,
        help="where to write the files (default: the template's site folder)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        uv = Uv(find_uv(args.uv), args.index_url, args.exclude_newer)
        result = lock_all(uv, args.date)
        files = {
            PYPROJECT: write_pyproject(SITE_DIR / PYPROJECT, result.pyproject_blocks),
            "uv.lock": by_line(result.lock_blocks, dash=False),
            "requirements.txt": header("requirements.txt", "requirements.txt", args.date)
            + "\n"
            + by_line(result.prod_blocks),
            "requirements-dev.txt": header(
                "requirements-dev.txt", "requirements-dev.txt", args.date
            )
            + "\n-r requirements.txt\n"
            + by_line(result.dev_blocks),
        }
        check_rendered(files)
    except (LockError, subprocess.TimeoutExpired) as exc:
        print(f"lock.py: {exc}", file=sys.stderr)
        return 1
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = args.output_dir / name
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        print(f"wrote {path}")
    for line, pins in result.pins.items():
        print(f"Django {line} direct pins: " + ", ".join(pins))
    return 0


if __name__ == "__main__":
    sys.exit(main())
