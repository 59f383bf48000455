"""Finish the generated project: prune, write a local .env, record the answers, print next steps.

The answers go to .cookiecutter.json, and, for a site baked with plain cookiecutter from a git
checkout of the template, to .cruft.json with the template's source and commit, in the form
cruft 2.16 writes it, so `cruft check` and `cruft update` work on every site. When cruft itself
bakes (cruft create, or the clean copies cruft update renders), the context carries `_commit`
and cruft writes .cruft.json itself: the hook leaves it alone.

Cookiecutter renders this file with Jinja and runs it inside the new project folder. The
answers arrive as ONE JSON document inside a raw string (`tojson` escapes quotes,
backslashes, newlines and non-ASCII), so no answer can change the Python below.
Nothing here touches the network. Any failure ends with one line on stderr and exit 1.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

# tojson escapes every ' character, so nothing in an answer can end this string.
CONTEXT = json.loads(r'''{{ cookiecutter|tojson }}''')
# The template folder, as an absolute path (see local_extensions.template_directory).
TEMPLATE_DIRECTORY = json.loads(r'''{{ cookiecutter|template_directory|tojson }}''')

# Everything below is plain Python; the raw block keeps Jinja from reading it.
# {% raw %}

# (question, answer) -> files or folders to delete from the project when that answer is given.
# Only for what a conditional file name cannot express.
REMOVALS = {
    ("railway_config", "iac"): ("railway.toml",),
    ("railway_config", "railway.toml"): (".railway",),
    ("license", "Proprietary"): ("LICENSE",),
    # Railpack installs with pip whenever requirements.txt exists, so a uv site must not ship one.
    ("package_manager", "uv"): ("requirements.txt", "requirements-dev.txt"),
    ("package_manager", "pip"): ("uv.lock",),
    # {slug} is the project package.
    ("admin_two_factor", False): (
        "{slug}/management/commands/enroll_two_factor.py",
        "{slug}/templates/admin/site_login_two_factor.html",
    ),
}

ENV_FILE = ".env"
ANSWERS_FILE = ".cookiecutter.json"
CRUFT_FILE = ".cruft.json"
# Context keys cookiecutter adds for this one run (paths on this machine): not part of the record.
RUN_KEYS = ("_output_dir", "_repo_dir", "_checkout", "_template", "_commit", "__prompts__")
# Cookiecutter's built-in abbreviations, used when cookiecutter itself cannot be imported.
ABBREVIATIONS = {
    "gh": "https://github.com/{0}.git",
    "gl": "https://gitlab.com/{0}.git",
    "bb": "https://bitbucket.org/{0}",
}
# What cookiecutter takes for a repository to clone (cookiecutter.repository.is_repo_url).
REPOSITORY_URL = re.compile(r"((git|hg)\+)?(git|ssh|file|https?):(//)?|\w+@[\w.]+")


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
            name = name.format(slug=answers["project_slug"])
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


def git(directory, *args):
    """Return git's output for ``git -C directory args``, or None when git fails or is missing."""
    try:
        proc = subprocess.run(
            ["git", "-C", directory, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def template_url(template, toplevel):
    """Return the source cruft clones later: the remote URL as given (abbreviation expanded), or
    the absolute path of the local git checkout the site was baked from.

    The rules are cookiecutter's own (an abbreviation alone or as ``prefix:rest``; a repository
    URL starts with a scheme cookiecutter clones or looks like ``user@host``), written out here
    because importing cookiecutter.repository costs this hook half a second on every bake.
    """
    prefix, _, rest = template.partition(":")
    if template in ABBREVIATIONS:
        expanded = ABBREVIATIONS[template]
    elif prefix in ABBREVIATIONS:
        expanded = ABBREVIATIONS[prefix].format(rest)
    else:
        expanded = template
    return expanded if REPOSITORY_URL.match(expanded) else toplevel


def cruft_state(context, template_directory):
    """Return (state, note): the .cruft.json content for a plain cookiecutter bake, or None and
    the reason it cannot be recorded. ``note`` is a line for the user, or ""."""
    toplevel = git(template_directory, "rev-parse", "--show-toplevel")
    commit = git(template_directory, "rev-parse", "--verify", "HEAD")
    if not toplevel or not commit:
        return None, (
            "The template was not baked from a git checkout, so no .cruft.json was written;"
            " link the site to the template later with: cruft link <template git URL>"
        )
    prefix = git(template_directory, "rev-parse", "--show-prefix") or ""
    url = template_url(str(context.get("_template") or toplevel), toplevel)
    recorded = {key: value for key, value in context.items() if key not in RUN_KEYS}
    recorded["_template"] = url
    recorded["_commit"] = commit
    state = {
        "template": url,
        "commit": commit,
        "checkout": context.get("_checkout"),
        "context": {"cookiecutter": recorded},
        "directory": prefix.rstrip("/") or None,
    }
    note = ""
    if git(template_directory, "status", "--porcelain", "--", "."):
        note = (
            f"NOTE: the template folder has uncommitted changes; .cruft.json records its"
            f" last commit ({commit[:12]}), which does not have them."
        )
    return state, note


def write_cruft_state(root, state):
    """Write .cruft.json as cruft 2.16 does: indent 2, non-ASCII kept, final newline."""
    text = json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": ")) + "\n"
    (root / CRUFT_FILE).write_text(text, encoding="utf-8", newline="\n")


def next_steps(answers, env_written):
    """Return the numbered next steps for these answers, as lines of text.

    They follow the site README's "First deploy on Railway" for the same answers. IaC: apply
    creates the services (the web service without a source, so nothing deploys yet), SECRET_KEY
    is set, then `railway up` makes the first deploy. Legacy railway.toml: link the existing
    service and set the references by hand. Redis appears only when it was chosen.
    """
    slug = answers["project_slug"]
    service = answers["railway_service_name"]
    repository = answers["github_repository"]
    redis = answers.get("use_redis") is True
    bucket = answers.get("media_storage") == "bucket"
    domain = answers.get("custom_domain") or ""
    on = f"--service {service}"
    set_secret = (
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        f" | railway variable set SECRET_KEY --stdin {on}"
    )

    def command(text, why=""):
        width = max(40, len(text) + 1)  # at least two spaces before the (explanation)
        return f"       {text:<{width}} ({why})" if why else f"       {text}"

    lines = [
        "",
        f"Created {slug}. Next steps:",
        f"  1. cd {slug}",
    ]
    if answers.get("package_manager", "uv") == "uv":
        install = "make install".ljust(41) + "(uv sync --locked: .venv from uv.lock; needs uv 0.13.8)"
    else:
        install = (
            "python3 -m venv .venv && . .venv/bin/activate && make install"
            "  (pip install --require-hashes -r requirements-dev.txt)"
        )
    lines += [
        f"  2. {install}",
        "  3. " + "make run".ljust(41) + "(migrate, then runserver on http://127.0.0.1:8000/)",
        "  4. " + "make test".ljust(41) + "(the site's tests)",
        "  5. " + "make check".ljust(41) + "(what CI runs: ruff, tests, migrations, check --deploy)",
    ]
    lines += [
        f"  6. Push to GitHub ({repository}), then with the Railway CLI (npm i -g @railway/cli):",
    ]
    if answers["railway_config"] == "iac":
        parts = [f"the {service} service", "the worker", "PostgreSQL"]
        parts += (["Redis"] if redis else []) + (["a bucket"] if bucket else [])
        created = f"creates {', '.join(parts[:-1])} and {parts[-1]}; nothing deploys yet"
        lines += [
            command("pip install railway-sdk==0.7.0", "the CLI runs .railway/railway.py with it"),
            command("railway login"),
            command("railway init", "a new project; railway link for an existing one"),
            command("railway config plan", "read-only: what would be created"),
            command("railway config apply", created),
            command(set_secret),
            command(f"railway up --ci {on}", "the first deploy, with SECRET_KEY set"),
            command(f"railway domain {on}", "a public *.up.railway.app address"),
        ]
        if domain:
            # The plan refuses to register a custom domain; the CLI's domain command can.
            lines.append(
                command(f"railway domain {domain} --port 8080 {on}", "then add the DNS record shown")
            )
    else:
        lines += [
            "       (railway.toml is for services that already use it;"
            " Railway stops reading it on 2026-12-01)",
            command("railway login"),
            command("railway link", f"the existing project and its {service} service"),
            command("railway add --database postgres", "unless it has a service named Postgres"),
        ]
        if redis:
            lines.append(
                command("railway add --database redis", "unless it has a service named Redis")
            )
        reference = "railway variable set "
        lines.append(command(reference + f"'DATABASE_URL=${{{{Postgres.DATABASE_URL}}}}' {on}"))
        if redis:
            lines.append(command(reference + f"'REDIS_URL=${{{{Redis.REDIS_URL}}}}' {on}"))
        if bucket:
            lines.append(command("railway bucket create Bucket", "uploaded files"))
            names = ("BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "REGION", "ENDPOINT")
            pairs = " ".join(f"'{name}=${{{{Bucket.{name}}}}}'" for name in names)
            lines.append(command(reference + f"{pairs} {on}"))
        lines += [
            command(set_secret),
            command(f"railway domain {on}", "a public *.up.railway.app address"),
        ]
        if domain:
            lines.append(command(f"railway domain {domain} {on}", "then add the DNS record shown"))
        lines.append(
            "       Disconnect the GitHub repository in the service's settings: the workflow"
            " deploys each push with railway up (README, \"One deploy per push\")."
        )
    lines.append(
        "       The task worker sends the mail: give the worker service the same variables and"
        " deploy it with railway up (README, \"Mail and the task worker\")."
    )
    admin = answers.get("admin_url")
    if admin:
        lines.append(
            f"       The admin is at https://<your domain>/{admin} (DJANGO_ADMIN_URL changes it)"
        )
    extras = []
    if answers.get("use_sentry") is True:
        extras.append("SENTRY_DSN (Sentry)")
    if answers.get("email_backend") == "smtp":
        extras.append("EMAIL_HOST, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, DEFAULT_FROM_EMAIL (SMTP)")
    if answers.get("email_backend") == "api":
        extras.append("EMAIL_PROVIDER, EMAIL_API_KEY, DEFAULT_FROM_EMAIL (e-mail API)")
    if extras:
        lines.append("       optional variables: " + "; ".join(extras))
    lines.append(
        "  7. Deploy details, rollback and troubleshooting: README.md"
        ' ("First deploy on Railway", "Rollback", "Troubleshooting")'
    )
    if env_written:
        lines.append("A local .env with a fresh SECRET_KEY was written (git-ignored, mode 0600).")
    else:
        lines.append("An existing .env was kept as it was.")
    lines.append(
        "Template updates later: cruft check, then cruft update"
        ' (README.md, "Updates from the template").'
    )
    return lines


def main():
    """Prune, write .env and the records of the answers, print the next steps.

    One error line on failure.
    """
    try:
        root = Path.cwd()
        answers = answers_to_record(CONTEXT)
        remove_unselected(root, answers)
        env_written = write_env(root, answers["project_slug"])
        write_answers(root, answers)
        note = ""
        if "_commit" not in CONTEXT:  # plain cookiecutter; cruft writes .cruft.json itself
            state, note = cruft_state(CONTEXT, TEMPLATE_DIRECTORY)
            if state is not None:
                write_cruft_state(root, state)
        print("\n".join(next_steps(answers, env_written)))
        if note:
            print(note)
    except Exception as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"ERROR: could not finish the project: {message}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
# {% endraw %}
