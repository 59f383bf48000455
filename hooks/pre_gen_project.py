"""Check every answer before cookiecutter writes a single project file.

Cookiecutter renders this file with Jinja before running it. The answers arrive as ONE
JSON document inside a raw string, so no answer text (quotes, backslashes, newlines,
template braces, shell syntax, any Unicode) can change the Python below: `tojson`
escapes quotes, backslashes, newlines and non-ASCII characters.

Each rule is one small validator. main() runs them in order; on the first broken rule it
prints ONE line to stderr (the question, the bad value, what is expected) and exits 1,
and cookiecutter then deletes the half-made output directory.
"""

import json
import keyword
import re
import sys
import unicodedata
import zoneinfo
from urllib.parse import urlsplit

# tojson escapes every ' character, so nothing in an answer can end this string.
ANSWERS = json.loads(r'''{{ cookiecutter|tojson }}''')

# Everything below is plain Python; the raw block keeps Jinja from reading it.
# {% raw %}

# Django version -> the Python versions (among the template's choices) it supports.
SUPPORTED_PYTHON = {
    "5.2": ("3.10", "3.11", "3.12", "3.13"),
    "6.1": ("3.12", "3.13"),
}

PACKAGE_MANAGERS = ("uv", "pip")
RAILWAY_CONFIGS = ("iac", "railway.toml")
EMAIL_BACKENDS = ("console", "smtp", "api")
# The names of the project's other services in .railway/railway.py (the task worker), which the
# web service cannot take.
RESERVED_SERVICE_NAMES = ("worker",)
LICENSES = ("MIT", "BSD-3-Clause", "Proprietary")

# Package names the slug must not take: they would shadow a dependency, a tool or a
# module the generated site imports, or a folder name the site already uses.
SHADOWED_NAMES = frozenset(
    {
        "django",
        "csp",
        "gunicorn",
        "whitenoise",
        "sentry_sdk",
        "psycopg",
        "psycopg2",
        "dj_database_url",
        "redis",
        "brotli",
        "dotenv",
        "test",
        "tests",
        "site",
        "config",
        "settings",
        "static",
        "templates",
        "manage",
        "pytest",
        "setuptools",
        "pip",
        "ruff",
        "railway_sdk",
    }
)

# Soft keywords of every Python the site may run on (3.12 added "type"), so the result
# does not depend on the Python that runs cookiecutter.
SOFT_KEYWORDS = frozenset(getattr(keyword, "softkwlist", [])) | {"_", "case", "match", "type"}
PYTHON_KEYWORDS = frozenset(keyword.kwlist) | SOFT_KEYWORDS
STDLIB_MODULES = frozenset(getattr(sys, "stdlib_module_names", ()))

SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: An admin path: URL-safe segments, no leading slash, one trailing slash ("staff-only/").
ADMIN_URL_RE = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*/$")
SLUG_MAX = 40
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_FORBIDDEN = set("\"'`<>\\,;()[]")
REPO_RE = re.compile(
    r"^(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/(?P<name>[A-Za-z0-9._-]{1,100})$"
)
HOST_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
SERVICE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
BRANCH_SAFE_RE = re.compile(r"^[A-Za-z0-9._/-]+$")
GIT_REF_FORBIDDEN = set(" ~^:?*[\\")
# Unicode format characters that reorder text (the "Trojan Source" trick); other format
# characters such as the zero-width joiner are legitimate in names.
BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

CONTROL_NAMES = {
    "\x00": "null character",
    "\t": "tab",
    "\n": "line feed",
    "\r": "carriage return",
    "\x1b": "escape",
}


class InvalidAnswer(Exception):
    """An answer breaks a rule: names the question, the value and what is expected."""

    def __init__(self, question, value, expected):
        super().__init__(question, value, expected)
        self.question = question
        self.value = value
        self.expected = expected

    def __str__(self):
        return f"{self.question} {truncated_repr(self.value)} is not valid: {self.expected}"


def truncated_repr(value, limit=60):
    """Return repr(value) cut to about `limit` characters (always one line)."""
    if isinstance(value, str) and len(value) > limit - 3:
        text = repr(value[: limit - 3]) + "..."
    else:
        text = repr(value)
    if len(text) > limit + 4:
        text = text[:limit] + "..."
    return text


def control_character_description(value):
    """Return "U+XXXX (name)" for the first control, line-break or bidi character, or None."""
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp") or char in BIDI_CONTROLS:
            name = CONTROL_NAMES.get(char) or unicodedata.name(char, "control character")
            return f"U+{ord(char):04X} ({name.lower()})"
    return None


def check_text(question, value, max_len, allow_empty=False, example="plain text"):
    """Shared rule for free text: a one-line string of at most max_len characters."""
    if not isinstance(value, str):
        raise InvalidAnswer(question, value, f"expected text, e.g. {example!r}")
    char = control_character_description(value)
    if char:
        raise InvalidAnswer(
            question, value, f"contains the control character {char}; use one line of plain text"
        )
    if not allow_empty and not value.strip():
        raise InvalidAnswer(question, value, f"must not be empty, e.g. {example!r}")
    if len(value) > max_len:
        raise InvalidAnswer(
            question, value, f"is {len(value)} characters long; use at most {max_len}"
        )


def check_choice(question, value, choices):
    """Shared rule for choice questions: the value is one of the choices."""
    if value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise InvalidAnswer(question, value, f"choose one of {listed}")


def suggest_slug(value):
    """Return a valid slug close to value (used in error messages only)."""
    text = value.lower() if isinstance(value, str) else ""
    text = re.sub(r"[^a-z0-9_]+", "_", text).strip("_")
    text = re.sub(r"_+", "_", text)
    if not text or not text[0].isalpha():
        text = f"cfmp_{text}".rstrip("_")
    text = text[:SLUG_MAX].rstrip("_")
    if text in PYTHON_KEYWORDS or text in STDLIB_MODULES or text in SHADOWED_NAMES:
        text = f"{text[: SLUG_MAX - 5]}_site"
    if not SLUG_RE.match(text):
        text = "cfmp_site"
    return text


def validate_project_name(answers):
    """project_name: non-empty, one line without control characters, at most 80 characters."""
    check_text("project_name", answers.get("project_name"), 80, example="Community Food Bank")


def validate_project_slug(answers):
    """project_slug: lowercase identifier (<= 40) shadowing no keyword, module or package."""
    value = answers.get("project_slug")
    if not isinstance(value, str):
        raise InvalidAnswer("project_slug", value, "expected text, e.g. 'cfmp'")
    hint = f"choose another slug, e.g. {suggest_slug(value)!r}"
    if not value:
        raise InvalidAnswer("project_slug", value, "must not be empty; e.g. 'cfmp'")
    if len(value) > SLUG_MAX:
        raise InvalidAnswer(
            "project_slug", value, f"is {len(value)} characters long; use at most {SLUG_MAX}"
        )
    if not SLUG_RE.match(value):
        raise InvalidAnswer(
            "project_slug",
            value,
            "use lowercase letters, digits and underscores, starting with a letter; " + hint,
        )
    if value in PYTHON_KEYWORDS:
        raise InvalidAnswer("project_slug", value, "a Python keyword; " + hint)
    if value in STDLIB_MODULES:
        raise InvalidAnswer(
            "project_slug", value, "the name of a Python standard-library module; " + hint
        )
    if value in SHADOWED_NAMES:
        raise InvalidAnswer(
            "project_slug",
            value,
            "would shadow a dependency, a tool or a folder of the site; " + hint,
        )


def validate_project_description(answers):
    """project_description: one line without control characters, at most 200 characters."""
    check_text(
        "project_description",
        answers.get("project_description"),
        200,
        allow_empty=True,
        example="Community Food Management Platform",
    )


def validate_author_name(answers):
    """author_name: non-empty, one line without control characters, at most 100 characters."""
    check_text("author_name", answers.get("author_name"), 100, example="CFMP Team")


def validate_author_email(answers):
    """author_email: a plain address like name@example.org (<= 254, no quotes or brackets)."""
    value = answers.get("author_email")
    check_text("author_email", value, 254, example="team@example.org")
    expected = "give a plain e-mail address such as 'team@example.org'"
    forbidden = sorted(set(value) & EMAIL_FORBIDDEN)
    if forbidden:
        raise InvalidAnswer(
            "author_email", value, f"must not contain {''.join(forbidden)!r}; {expected}"
        )
    if not EMAIL_RE.match(value):
        raise InvalidAnswer("author_email", value, expected)


def validate_github_repository(answers):
    """github_repository: "owner/name" as GitHub allows them (no URL, no .git)."""
    question = "github_repository"
    value = answers.get(question)
    check_text(question, value, 140, example="your-org/cfmp")
    expected = "expected \"owner/name\", e.g. 'your-org/cfmp'"
    if "://" in value or value.startswith(("git@", "github.com/")):
        parts = [part for part in re.split(r"[/:]", value.removesuffix(".git")) if part]
        guess = "/".join(parts[-2:]) if len(parts) >= 2 else "your-org/cfmp"
        raise InvalidAnswer(question, value, f'give only "owner/name", e.g. {guess!r}, not a URL')
    match = REPO_RE.match(value)
    if not match:
        raise InvalidAnswer(
            question,
            value,
            expected + " (owner: letters, digits, hyphens, at most 39; "
            "name: letters, digits, '.', '_', '-', at most 100)",
        )
    owner, name = match.group("owner"), match.group("name")
    if "--" in owner or owner.endswith("-"):
        raise InvalidAnswer(
            question, value, "a GitHub owner has no double or trailing hyphen; " + expected
        )
    if name in (".", ".."):
        raise InvalidAnswer(
            question, value, "the repository name cannot be '.' or '..'; " + expected
        )
    if name.lower().endswith(".git"):
        raise InvalidAnswer(question, value, f"leave out '.git': {owner + '/' + name[:-4]!r}")


def validate_custom_domain(answers):
    """custom_domain: empty, or a lowercase host name, e.g. x.example.org (no scheme/port/path)."""
    question = "custom_domain"
    value = answers.get(question)
    check_text(question, value, 253, allow_empty=True, example="food.example.org")
    if value == "":
        return
    example = "e.g. 'food.example.org'"
    if "://" in value or value.startswith("//") or "/" in value:
        host = urlsplit(value if "//" in value else "//" + value).hostname or ""
        guess = repr(host) if host else "'food.example.org'"
        raise InvalidAnswer(
            question, value, f"give only the host name, e.g. {guess}, without scheme or path"
        )
    if ":" in value:
        raise InvalidAnswer(
            question,
            value,
            f"give only the host name, without a port, e.g. {value.split(':')[0]!r}",
        )
    if value != value.lower():
        raise InvalidAnswer(question, value, f"use lowercase letters: {value.lower()!r}")
    if value.endswith("."):
        raise InvalidAnswer(question, value, f"leave out the trailing dot: {value.rstrip('.')!r}")
    labels = value.split(".")
    if len(labels) < 2:
        raise InvalidAnswer(
            question,
            value,
            f"a public host name has at least two labels, {example}; or leave it empty",
        )
    for label in labels:
        if not HOST_LABEL_RE.match(label):
            raise InvalidAnswer(
                question,
                value,
                f"each dot-separated label is 1-63 of a-z, 0-9 and '-', not starting or ending "
                f"with '-' ({label!r} is not); {example}",
            )
    if labels[-1].isdigit():
        raise InvalidAnswer(question, value, f"the last label cannot be all digits; {example}")


def validate_admin_url(answers):
    """admin_url: a path like "staff-only/" (letters, digits, "-" and "_"; one trailing slash)."""
    question = "admin_url"
    value = answers.get(question)
    check_text(question, value, 100, example="staff-only/")
    if not ADMIN_URL_RE.match(value):
        raise InvalidAnswer(
            question,
            value,
            "a path like 'staff-only/': letters, digits, '-' and '_', no leading slash,"
            " one trailing slash",
        )
    if value == "admin/":
        raise InvalidAnswer(
            question, value, "choose another path: scanners try 'admin/' first (or keep the default)"
        )


def validate_django_version(answers):
    """django_version: one of the supported Django release lines."""
    check_choice("django_version", answers.get("django_version"), tuple(SUPPORTED_PYTHON))


def validate_python_version(answers):
    """python_version: a Python version the chosen Django supports."""
    django = answers.get("django_version")
    supported = SUPPORTED_PYTHON.get(django, ())
    value = answers.get("python_version")
    if value not in supported:
        listed = ", ".join(repr(version) for version in supported)
        raise InvalidAnswer(
            "python_version", value, f"Django {django} supports Python {listed}; choose one of them"
        )


def validate_package_manager(answers):
    """package_manager: "uv" (pyproject.toml and uv.lock) or "pip" (hashed requirements)."""
    check_choice("package_manager", answers.get("package_manager"), PACKAGE_MANAGERS)


def validate_railway_config(answers):
    """railway_config: "iac" (.railway/railway.py) or "railway.toml" (legacy services)."""
    check_choice("railway_config", answers.get("railway_config"), RAILWAY_CONFIGS)


def validate_railway_service_name(answers):
    """railway_service_name: 1-32 lowercase letters, digits or hyphens, no hyphen at either end."""
    value = answers.get("railway_service_name")
    check_text("railway_service_name", value, 32, example="web")
    if not SERVICE_RE.match(value):
        raise InvalidAnswer(
            "railway_service_name",
            value,
            "a Railway service name is 1-32 lowercase letters, digits and hyphens, "
            "not starting or ending with a hyphen, e.g. 'web'",
        )
    if value in RESERVED_SERVICE_NAMES:
        raise InvalidAnswer(
            "railway_service_name",
            value,
            f"'{value}' is the task worker's service name; choose another, e.g. 'web'",
        )


def git_branch_problem(branch):
    """Return why `branch` is not a valid git branch name (git check-ref-format), or None."""
    if branch in ("@", "HEAD"):
        return "is not allowed as a branch name"
    if branch.startswith("-"):
        return "starts with '-'"
    for char in branch:
        if char in GIT_REF_FORBIDDEN or ord(char) < 0x20 or ord(char) == 0x7F:
            return f"contains {char!r}"
    for sequence in ("..", "@{", "//"):
        if sequence in branch:
            return f"contains {sequence!r}"
    if branch.startswith("/") or branch.endswith("/"):
        return "starts or ends with '/'"
    if branch.endswith("."):
        return "ends with '.'"
    for part in branch.split("/"):
        if part.startswith("."):
            return "has a part starting with '.'"
        if part.endswith(".lock"):
            return "has a part ending with '.lock'"
    if not BRANCH_SAFE_RE.match(branch):
        return (
            "has characters other than letters, digits, '.', '_', '-' and '/'"
            " (unsafe in YAML and shell)"
        )
    return None


def validate_deploy_branches(answers):
    """deploy_branches: comma-separated git branch names (letters, digits, . _ - /), no repeats."""
    question = "deploy_branches"
    value = answers.get(question)
    check_text(question, value, 500, example="main")
    example = "e.g. 'main' or 'main,release/2026.1' (commas, no spaces)"
    seen = set()
    for branch in value.split(","):
        if not branch:
            raise InvalidAnswer(
                question, value, f"has an empty branch name (check the commas); {example}"
            )
        problem = git_branch_problem(branch)
        if problem:
            raise InvalidAnswer(question, value, f"the branch {branch!r} {problem}; {example}")
        if branch in seen:
            raise InvalidAnswer(
                question, value, f"the branch {branch!r} is listed twice; {example}"
            )
        seen.add(branch)


def check_boolean(question, value):
    """Shared rule for yes/no questions: a real boolean, not text."""
    if not isinstance(value, bool):
        raise InvalidAnswer(
            question, value, "expected a yes/no answer: use true/false (JSON) or y/n"
        )


def validate_use_sentry(answers):
    """use_sentry: a yes/no answer (boolean)."""
    check_boolean("use_sentry", answers.get("use_sentry"))


def validate_use_redis(answers):
    """use_redis: a yes/no answer (boolean)."""
    check_boolean("use_redis", answers.get("use_redis"))


def validate_email_backend(answers):
    """email_backend: "console", "smtp" or "api"."""
    check_choice("email_backend", answers.get("email_backend"), EMAIL_BACKENDS)


def validate_time_zone(answers):
    """time_zone: an IANA time zone name known to zoneinfo, e.g. Europe/Berlin (or UTC)."""
    value = answers.get("time_zone")
    check_text("time_zone", value, 64, example="Europe/Berlin")
    if value == "UTC":
        return
    known = zoneinfo.available_timezones()
    # Without any time zone data (Windows without the tzdata package) only the shape can be checked.
    valid = value in known if known else re.match(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$", value)
    if not valid:
        raise InvalidAnswer(
            "time_zone", value, "use an IANA time zone name such as 'Europe/Berlin' or 'UTC'"
        )


def validate_license(answers):
    """license: "MIT", "BSD-3-Clause" or "Proprietary"."""
    check_choice("license", answers.get("license"), LICENSES)


def validate_no_control_characters(answers):
    """Every other text answer: no control characters (covers questions added later)."""
    for question, value in answers.items():
        if question.startswith("_") or not isinstance(value, str):
            continue
        char = control_character_description(value)
        if char:
            raise InvalidAnswer(
                question,
                value,
                f"contains the control character {char}; use one line of plain text",
            )


VALIDATORS = (
    validate_project_name,
    validate_project_slug,
    validate_project_description,
    validate_author_name,
    validate_author_email,
    validate_github_repository,
    validate_custom_domain,
    validate_admin_url,
    validate_django_version,
    validate_python_version,
    validate_package_manager,
    validate_railway_config,
    validate_railway_service_name,
    validate_deploy_branches,
    validate_use_sentry,
    validate_use_redis,
    validate_email_backend,
    validate_time_zone,
    validate_license,
    validate_no_control_characters,
)


def main():
    """Run every validator in order; stop at the first broken rule with one line on stderr."""
    try:
        for validator in VALIDATORS:
            validator(ANSWERS)
    except InvalidAnswer as error:
        print(f"ERROR: {error}", file=sys.stderr)
        sys.exit(1)
    except Exception as error:  # a bug here must still end with one readable line
        message = " ".join(str(error).split())
        print(
            f"ERROR: could not check the answers: {type(error).__name__}: {message}",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
# {% endraw %}
