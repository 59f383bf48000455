#!/usr/bin/env python3
"""Regenerate the generated site's hashed dependency locks.

The template ships its site's locks so that baking never resolves anything and needs no
network. This maintainers' script is the only thing that resolves them. It writes two Jinja
template files:

* ``{{cookiecutter.project_slug}}/requirements.txt``: for each Django line (``DJANGO_LINES``)
  and each answer pair (use_sentry, use_redis), the complete production lock, every package
  pinned with the hashes of all its files. One ``{% if %}`` block per combination; a baked site
  gets exactly one of them.
* ``{{cookiecutter.project_slug}}/requirements-dev.txt``: ``-r requirements.txt`` followed by
  the hashed development-only packages (ruff, python-dotenv, tblib, and whatever they pull in
  that the production lock lacks), one block per Django line.

How it resolves: ``uv pip compile --universal --generate-hashes --python-version <min>`` against
PyPI, where <min> is the lowest Python the Django line supports; a universal lock carries
environment markers, so the same file installs on every Python from <min> up and on every
platform. The dev lock is resolved with the production lock as a constraint (so the shared
packages keep the production pins) once per answer pair, and the script stops if the
development-only part would differ between answer pairs. Before writing, it renders every
combination with Jinja (as cookiecutter does) and checks the result: a header, no blank lines,
every requirement hashed, no paths from this machine.

Usage (from the template's root, in the virtual environment of its requirements-dev.txt, which
provides the pinned uv and jinja2; this needs the network to PyPI):

    .venv/bin/python scripts/lock.py                   # lock date: today (UTC)
    .venv/bin/python scripts/lock.py --date 2026-11-28
    .venv/bin/python scripts/lock.py --exclude-newer 2026-11-28T00:00:00Z   # re-create an old lock

Then review ``git diff`` (the direct dependencies' versions, any new package) and run the
template's tests. To add a Django line (e.g. "7.0"), add it to DJANGO_LINES and
to the django_version choices in cookiecutter.json (and to SUPPORTED_PYTHON in
hooks/pre_gen_project.py), and run the script again.

The output depends only on what PyPI serves (pin it with --exclude-newer) and on --date: entries
are sorted by uv, the combinations come in a fixed order, and no other time stamp is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = ROOT / "{{cookiecutter.project_slug}}"


@dataclass(frozen=True)
class DjangoLine:
    """A django_version choice in cookiecutter.json and what its lock needs."""

    python: str  # the lowest Python the line supports: the lock is resolved for it and newer
    spec: str  # the pin spec that selects the line's newest patch release
    extra: tuple[str, ...] = ()  # direct requirements only this line needs


DJANGO_LINES: dict[str, DjangoLine] = {
    # 5.2 has no Content-Security-Policy support of its own: django-csp provides the header.
    "5.2": DjangoLine("3.10", "Django==5.2.*", ("django-csp>=4,<5",)),
    # 6.x has it built in (SECURE_CSP and its middleware), so no django-csp.
    "6.1": DjangoLine("3.12", "Django==6.1.*"),
}

# Direct production requirements, besides Django, for every site.
BASE_REQUIREMENTS = [
    "gunicorn",
    "psycopg[binary]",
    "whitenoise[brotli]",
    "dj-database-url",
    # The admin (issue 11): login throttling, Argon2 hashes, JSON logs, two-factor (TOTP) and
    # the enrollment QR code (segno: pure Python, no dependencies, SVG).
    "django-axes",
    "argon2-cffi",
    "python-json-logger",
    "django-otp",
    "segno",
]
SENTRY_REQUIREMENTS = ["sentry-sdk[django]"]
REDIS_REQUIREMENTS = ["redis"]

# Direct development-only requirements. uv pins each to its newest release.
DEV_REQUIREMENTS = [
    "ruff",  # lint and format
    "python-dotenv",  # settings.local reads .env
    "tblib",  # tracebacks from `manage.py test --parallel`
]

# (use_sentry, use_redis), the default answers first.
ANSWER_PAIRS: list[tuple[bool, bool]] = [(True, False), (True, True), (False, False), (False, True)]

DEFAULT_INDEX = "https://pypi.org/simple"
INSTALL_HINT = "pip install --require-hashes -r {name}"


class LockError(RuntimeError):
    """A resolution failed or produced something we will not ship."""


@dataclass(frozen=True)
class Entry:
    """One requirement of a compiled lock: its normalized name and its text lines."""

    name: str
    lines: tuple[str, ...]

    @property
    def pin(self) -> str:
        """The first line without the line continuation: ``name==version ; marker``."""
        return self.lines[0].rstrip(" \\")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def production_requirements(line: str, use_sentry: bool, use_redis: bool) -> list[str]:
    reqs = [DJANGO_LINES[line].spec, *BASE_REQUIREMENTS, *DJANGO_LINES[line].extra]
    if use_sentry:
        reqs += SENTRY_REQUIREMENTS
    if use_redis:
        reqs += REDIS_REQUIREMENTS
    return reqs


def parse_lock(text: str) -> list[Entry]:
    """Split uv's output into entries, keeping hashes and clean ``# via`` notes.

    ``# via -r file`` and ``# via -c file`` items name the script's temporary input files, not
    packages, so they are dropped (and a note left empty goes with them).
    """
    entries: list[Entry] = []
    current: list[str] | None = None
    via: list[str] = []

    def flush() -> None:
        if current is None:
            return
        kept = [v for v in via if not v.startswith(("-r ", "-c "))]
        body = list(current)
        if len(kept) == 1:
            body.append(f"    # via {kept[0]}")
        elif kept:
            body.append("    # via")
            body.extend(f"    #   {v}" for v in kept)
        name = normalize(re.split(r"[=<>!~ ;\[]", body[0], maxsplit=1)[0])
        entries.append(Entry(name, tuple(body)))

    for raw in text.splitlines():
        line = raw.rstrip()
        if not line:
            continue
        if not line.startswith((" ", "#")):
            flush()
            current, via = [line], []
        elif line.lstrip().startswith("--hash="):
            if current is None:
                raise LockError(f"hash line outside a requirement: {line!r}")
            current.append(line)
        elif line.startswith("    # via "):
            via.append(line.removeprefix("    # via ").strip())
        elif line.startswith("    #   "):
            via.append(line.removeprefix("    #   ").strip())
        elif line.strip() == "# via":
            continue
        elif line.startswith("#") and current is None:
            continue  # a header, if uv ever writes one despite --no-header
        else:
            raise LockError(f"unexpected line in uv's output: {line!r}")
    flush()

    for entry in entries:
        if "==" not in entry.pin:
            raise LockError(f"not pinned: {entry.pin}")
        if not any(x.lstrip().startswith("--hash=sha256:") for x in entry.lines[1:]):
            raise LockError(f"no hash for {entry.pin}")
        # Any continuation must be followed by another hash line.
        hashes = [x for x in entry.lines if not x.lstrip().startswith("#")]
        if hashes[-1].endswith("\\") or not all(x.endswith("\\") for x in hashes[:-1]):
            raise LockError(f"broken line continuation in {entry.pin}")
    return entries


def render_entries(entries: list[Entry]) -> str:
    return "\n".join(line for entry in entries for line in entry.lines)


class Resolver:
    """Runs ``uv pip compile`` in a private temporary folder with relative file names."""

    def __init__(self, uv: str, index_url: str, exclude_newer: str | None) -> None:
        self.uv = uv
        self.index_url = index_url
        self.exclude_newer = exclude_newer

    def compile(
        self, requirements: list[str], python: str, constraints: str | None = None
    ) -> list[Entry]:
        with tempfile.TemporaryDirectory(prefix="cfmp-lock-") as tmp:
            work = Path(tmp)
            (work / "requirements.in").write_text("\n".join(requirements) + "\n")
            cmd = [
                self.uv, "pip", "compile", "requirements.in",
                "--no-config", "--quiet", "--no-header", "--no-emit-index-url",
                "--universal", "--generate-hashes", "--python-version", python,
                "--default-index", self.index_url,
                "--output-file", "lock.txt",
            ]  # fmt: skip
            if constraints is not None:
                (work / "constraints.txt").write_text(constraints)
                cmd += ["--constraints", "constraints.txt"]
            if self.exclude_newer:
                cmd += ["--exclude-newer", self.exclude_newer]
            proc = subprocess.run(  # a fixed argument list, no shell
                cmd, cwd=work, capture_output=True, text=True, timeout=900, check=False
            )
            if proc.returncode != 0:
                raise LockError(f"uv pip compile failed for {requirements}:\n{proc.stderr.strip()}")
            text = (work / "lock.txt").read_text()
        if tmp in text or str(ROOT) in text:
            raise LockError("uv's output names a path on this machine")
        return parse_lock(text)


def condition(line: str, use_sentry: bool, use_redis: bool | None = None) -> str:
    parts = [f'cookiecutter.django_version == "{line}"']
    if use_redis is not None:
        parts.append("cookiecutter.use_sentry" if use_sentry else "not cookiecutter.use_sentry")
        parts.append("cookiecutter.use_redis" if use_redis else "not cookiecutter.use_redis")
    return " and ".join(parts)


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


# Rendering a lock for answers that have none fails the bake with this name in the message
# (cookiecutter renders with StrictUndefined), rather than writing a site without a lock.
NO_LOCK = "{{ cookiecutter.ERROR_no_lock_for_this_django_version__run_scripts_lock_py }}"


def build_template(header: list[str], blocks: list[tuple[str, str]], prefix: str = "") -> str:
    """Join a header and ``(condition, body)`` blocks into one Jinja template.

    ``{%-`` eats the newline before each tag, and each body starts with the newline that
    follows its tag, so a rendered file has no blank lines and ends with a single newline.
    """
    out = "\n".join(header)
    if prefix:
        out += "\n" + prefix
    for i, (cond, body) in enumerate(blocks):
        out += "\n{%- " + ("if" if i == 0 else "elif") + " " + cond + " %}\n" + body
    out += "\n{%- else %}\n" + NO_LOCK + "\n{%- endif %}\n"
    return out


def production_header(date: str) -> list[str]:
    return [
        "# Production dependencies: the complete lock, every package pinned with the hashes of",
        "# the files it may be installed from, for every supported Python version and platform.",
        f"# Generated on {date} by scripts/lock.py of the cfmp-railway template (uv pip compile",
        "# --universal --generate-hashes). Do not edit it by hand.",
        f"# Install: {INSTALL_HINT.format(name='requirements.txt')}",
    ]


def dev_header(date: str) -> list[str]:
    return [
        "# Development dependencies: the production lock plus the tools for tests, lint and local",
        "# settings, every package pinned with the hashes of the files it may be installed from.",
        f"# Generated on {date} by scripts/lock.py of the cfmp-railway template (uv pip compile",
        "# --universal --generate-hashes, requirements.txt as constraints). Do not edit by hand.",
        f"# Install: {INSTALL_HINT.format(name='requirements-dev.txt')}",
    ]


def lock_all(resolver: Resolver, date: str) -> tuple[str, str, dict[str, dict[str, str]]]:
    """Resolve everything; return both templates and the direct pins, for the summary."""
    prod_blocks: list[tuple[str, str]] = []
    dev_blocks: list[tuple[str, str]] = []
    pins: dict[str, dict[str, str]] = {}
    for line in sorted(DJANGO_LINES, key=lambda v: tuple(int(p) for p in v.split("."))):
        python = DJANGO_LINES[line].python
        dev_body: str | None = None
        for use_sentry, use_redis in ANSWER_PAIRS:
            reqs = production_requirements(line, use_sentry, use_redis)
            label = f"Django {line}, sentry {yes_no(use_sentry)}, redis {yes_no(use_redis)}"
            print(f"resolving {label} ...", file=sys.stderr)
            prod = resolver.compile(reqs, python)
            prod_text = render_entries(prod)
            direct = {normalize(re.split(r"[=<>!~\[]", r, maxsplit=1)[0]) for r in reqs}
            found = {e.name for e in prod}
            if missing := direct - found:
                raise LockError(f"{label}: direct requirements missing from lock: {missing}")
            for entry in prod:
                if entry.name in direct:
                    pins.setdefault(line, {})[entry.pin] = entry.name
            body = "\n".join(
                [
                    f"# Django {line}; Sentry: {yes_no(use_sentry)}; Redis: {yes_no(use_redis)};"
                    f" Python {python} and newer.",
                    "# Direct requirements: " + ", ".join(reqs),
                    prod_text,
                ]
            )
            prod_blocks.append((condition(line, use_sentry, use_redis), body))

            print(f"resolving {label} + development tools ...", file=sys.stderr)
            full = resolver.compile(reqs + DEV_REQUIREMENTS, python, constraints=prod_text + "\n")
            prod_pins = {e.pin for e in prod}
            for entry in full:
                if entry.name in found and entry.pin not in prod_pins:
                    raise LockError(f"{label}: dev lock moved {entry.pin} off the production pin")
            dev_only = [e for e in full if e.name not in found]
            if missing := {normalize(r) for r in DEV_REQUIREMENTS} - {e.name for e in dev_only}:
                raise LockError(f"{label}: dev tools missing from the dev lock: {missing}")
            text = render_entries(dev_only)
            if dev_body is None:
                dev_body = text
            elif text != dev_body:
                raise LockError(
                    f"Django {line}: the development-only packages differ between answer pairs;"
                    " make requirements-dev.txt one block per answer pair"
                )
        if dev_body is None:
            raise LockError("no answer pairs to lock")
        dev_note = f"# Django {line}; direct requirements: " + ", ".join(DEV_REQUIREMENTS)
        dev_blocks.append((condition(line, True), dev_note + "\n" + dev_body))
    prod_template = build_template(production_header(date), prod_blocks)
    dev_template = build_template(dev_header(date), dev_blocks, prefix="-r requirements.txt")
    return prod_template, dev_template, pins


def check_rendered(prod_template: str, dev_template: str) -> None:
    """Render every combination as cookiecutter would and check the files we would ship."""
    try:
        import jinja2
    except ImportError as exc:  # pragma: no cover - jinja2 comes with cookiecutter
        raise LockError("jinja2 is needed: run this in the template's dev environment") from exc
    # Plain text, not HTML: no autoescape, as in cookiecutter's own environment.
    env = jinja2.Environment(  # noqa: S701
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    templates = {"requirements.txt": prod_template, "requirements-dev.txt": dev_template}
    for line, (use_sentry, use_redis) in itertools.product(DJANGO_LINES, ANSWER_PAIRS):
        ctx = {"django_version": line, "use_sentry": use_sentry, "use_redis": use_redis}
        for name, source in templates.items():
            text = env.from_string(source).render(cookiecutter=ctx)
            where = f"{name} for {ctx}"
            if not text.startswith("# ") or not text.endswith("\n") or text.endswith("\n\n"):
                raise LockError(f"{where}: bad start or end")
            if "\n\n" in text or "{" in text or "}" in text or "\t" in text:
                raise LockError(f"{where}: blank line, tab or Jinja left over")
            if INSTALL_HINT.format(name=name) not in text:
                raise LockError(f"{where}: no install hint")
            if str(ROOT) in text or tempfile.gettempdir() in text:
                raise LockError(f"{where}: names a path on this machine")
            reqs = [ln for ln in text.splitlines() if not ln.startswith((" ", "#"))]
            if name == "requirements-dev.txt":
                if reqs[0] != "-r requirements.txt":
                    raise LockError(f"{where}: does not start from requirements.txt")
                reqs = reqs[1:]
            for i, ln in enumerate(text.splitlines()):
                if ln in reqs and not ln.endswith(" \\"):
                    raise LockError(f"{where}: line {i + 1} has no hashes: {ln}")
            names = [normalize(re.split(r"[=; ]", r, maxsplit=1)[0]) for r in reqs]
            if name == "requirements.txt":
                expect = {"django", "gunicorn", "psycopg", "whitenoise", "dj-database-url"}
                expect |= {normalize(re.split(r"[<>=]", r)[0]) for r in DJANGO_LINES[line].extra}
                expect |= {"sentry-sdk"} if use_sentry else set()
                expect |= {"redis"} if use_redis else set()
                unwanted = (set() if use_sentry else {"sentry-sdk"}) | (
                    set() if use_redis else {"redis"}
                )
                # A package one Django line needs (django-csp) must not reach the others.
                unwanted |= {
                    normalize(re.split(r"[<>=]", r)[0])
                    for other in DJANGO_LINES.values()
                    for r in other.extra
                } - expect
                if not expect <= set(names) or unwanted & set(names):
                    raise LockError(f"{where}: wrong package set {sorted(set(names))}")
    # Answers without a lock must fail the bake, not ship an empty lock.
    for name, source in templates.items():
        ctx = {"django_version": "0.0", "use_sentry": True, "use_redis": False}
        try:
            env.from_string(source).render(cookiecutter=ctx)
        except jinja2.UndefinedError:
            continue
        raise LockError(f"{name}: rendering for an unknown Django line did not fail")


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
            "Resolve the generated site's hashed locks with uv (needs the network to PyPI) and"
            " write {{cookiecutter.project_slug}}/requirements.txt and requirements-dev.txt."
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
        help="where to write the two files (default: the template's site folder)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        resolver = Resolver(find_uv(args.uv), args.index_url, args.exclude_newer)
        prod_template, dev_template, pins = lock_all(resolver, args.date)
        check_rendered(prod_template, dev_template)
    except (LockError, subprocess.TimeoutExpired) as exc:
        print(f"lock.py: {exc}", file=sys.stderr)
        return 1
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (("requirements.txt", prod_template), ("requirements-dev.txt", dev_template)):
        path = args.output_dir / name
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        print(f"wrote {path}")
    for line, found in pins.items():
        print(f"Django {line} direct pins: " + ", ".join(sorted(found, key=str.lower)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
