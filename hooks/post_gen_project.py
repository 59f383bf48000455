"""Finish the generated project: prune, write a local .env, record the answers, print next steps.

Cookiecutter renders this file with Jinja and runs it inside the new project folder. The
answers arrive as ONE JSON document inside a raw string (`tojson` escapes quotes,
backslashes, newlines and non-ASCII), so no answer can change the Python below.
Nothing here touches the network. Any failure ends with one line on stderr and exit 1.
"""

import json
import os
import secrets
import shutil
import sys
from pathlib import Path

# tojson escapes every ' character, so nothing in an answer can end this string.
CONTEXT = json.loads(r'''{{ cookiecutter|tojson }}''')

# Everything below is plain Python; the raw block keeps Jinja from reading it.
# {% raw %}

# (question, answer) -> files or folders to delete from the project when that answer is given.
# Only for what a conditional file name cannot express.
REMOVALS = {
    ("railway_config", "iac"): ("railway.toml",),
    ("railway_config", "railway.toml"): (".railway",),
    ("license", "Proprietary"): ("LICENSE",),
}

ENV_FILE = ".env"
ANSWERS_FILE = ".cookiecutter.json"


def answers_to_record(context):
    """Return the user's answers: every key that does not start with "_"."""
    return {key: value for key, value in context.items() if not key.startswith("_")}


def remove_unselected(root, answers):
    """Delete the files and folders that belong to answers not chosen; return their names."""
    removed = []
    for (question, answer), names in REMOVALS.items():
        if answers.get(question) != answer:
            continue
        for name in names:
            path = root / name
            if path.is_symlink() or path.is_file():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path)
            else:
                continue
            removed.append(name)
    return removed


def new_secret_key():
    """Return a fresh random SECRET_KEY: 64 URL-safe characters, never 'django-insecure...'."""
    while True:
        key = secrets.token_urlsafe(48)
        if not key.startswith("django-insecure") and len(set(key)) >= 5:
            return key


def write_env(root, slug):
    """Create .env (mode 0600) with a fresh SECRET_KEY; keep an existing .env untouched."""
    path = root / ENV_FILE
    if path.exists():
        return False
    text = (
        "# Local development only. Never commit this file (.gitignore already excludes it).\n"
        f"SECRET_KEY={new_secret_key()}\n"
        "# SQLite (db.sqlite3) is the default; uncomment to use a local PostgreSQL instead:\n"
        f"# DATABASE_URL=postgres://postgres@127.0.0.1:5432/{slug}\n"
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    return True


def write_answers(root, answers):
    """Write .cookiecutter.json: sorted keys, indent 2, final newline (same answers, same bytes)."""
    text = json.dumps(answers, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    (root / ANSWERS_FILE).write_text(text, encoding="utf-8", newline="\n")


def next_steps(answers, env_written):
    """Return the numbered next steps for these answers, as lines of text."""
    slug = answers["project_slug"]
    service = answers["railway_service_name"]
    repository = answers["github_repository"]
    redis = answers.get("use_redis") is True
    generate = 'python3 -c "import secrets; print(secrets.token_urlsafe(50))"'
    set_secret = f'railway variables --service {service} --set "SECRET_KEY=<the generated key>"'

    lines = [
        "",
        f"Created {slug}. Next steps:",
        f"  1. cd {slug}",
        "  2. python3 -m venv .venv && . .venv/bin/activate",
        "  3. pip install -r requirements-dev.txt",
        "  4. python manage.py migrate && python manage.py runserver",
        "  5. python manage.py test",
        f"  6. Push to GitHub ({repository}), then on Railway:",
    ]
    if answers["railway_config"] == "iac":
        created = (
            "the web service, PostgreSQL and Redis" if redis else "the web service and PostgreSQL"
        )
        lines += [
            "       railway link",
            f"       railway config apply      (creates {created} from .railway/railway.py)",
            f"       {generate}",
            f"       {set_secret}",
        ]
    else:
        lines += [
            f"       create a service named {service!r} from the GitHub repository"
            " (it reads railway.toml), then add PostgreSQL",
        ]
        if redis:
            lines.append("       add Redis, and set REDIS_URL=${{Redis.REDIS_URL}} on the service")
        lines += [
            "       set DATABASE_URL=${{Postgres.DATABASE_URL}} on the service",
            f"       generate SECRET_KEY with: {generate}",
            f"       {set_secret}",
            "       (railway.toml suits existing services only;"
            " Railway stops reading it on 2026-12-01)",
        ]
    extras = []
    if answers.get("use_sentry") is True:
        extras.append("SENTRY_DSN (Sentry)")
    if answers.get("email_backend") == "smtp":
        extras.append("EMAIL_HOST, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, DEFAULT_FROM_EMAIL (SMTP)")
    if extras:
        lines.append("       optional variables: " + "; ".join(extras))
    if answers.get("custom_domain"):
        lines.append(
            f"       add the custom domain {answers['custom_domain']}"
            " in the service's Networking settings"
        )
    lines.append('  7. Details, rollback and troubleshooting: the "Deploy" section of README.md')
    if env_written:
        lines.append("A local .env with a fresh SECRET_KEY was written (git-ignored, mode 0600).")
    else:
        lines.append("An existing .env was kept as it was.")
    return lines


def main():
    """Prune, write .env and .cookiecutter.json, print the next steps; one error line on failure."""
    try:
        root = Path.cwd()
        answers = answers_to_record(CONTEXT)
        remove_unselected(root, answers)
        env_written = write_env(root, answers["project_slug"])
        write_answers(root, answers)
        print("\n".join(next_steps(answers, env_written)))
    except Exception as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"ERROR: could not finish the project: {message}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
# {% endraw %}
