"""Template updates with cruft, end to end, offline: bake at commit A, change the template, update.

A throwaway git repository holds the template's current working tree (uncommitted changes
included) as commit A. A site is baked from it (with ``cruft create``, or with plain
``cookiecutter``, whose post hook writes .cruft.json), put under git and edited by its owners.
Then the template gets commit B, and ``cruft check`` / ``cruft update`` must bring B into the
site without touching the owners' edits or their .env.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.combinations import TEMPLATE_DIR
from tests.support.processes import tail, tool

pytestmark = pytest.mark.slow

SLUG = "cfmp"
SLUG_DIR = "{{cookiecutter.project_slug}}"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "cfmp tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "cfmp tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
    # No user or system git configuration (hooks, signing, templates) may change the outcome.
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}

# What commit B changes in the template, and what the site's owners change after baking.
GUNICORN_LINE = "# Added by template commit B.\n"
NEW_FILE = "UPGRADING.md"
NEW_FILE_TEXT = "# Upgrading {{ cookiecutter.project_name }}\n\nNotes from template commit B.\n"
README_HEADING_OLD = "## Quick start (local)\n"
README_HEADING_NEW = "## Quick start on your machine\n"
SITE_README_TEXT = "\n## Our food bank\n\nOpening hours and contacts, written by the site's team.\n"
SITE_FILE = "docs/volunteers.md"
SITE_FILE_TEXT = "# Volunteers\n\nThe rota lives here.\n"


def shown(text: str) -> str:
    """Output fit for a failure message: the throwaway .env files' keys masked, the tail kept."""
    return tail(re.sub(r"SECRET_KEY=\S+", "SECRET_KEY=***", text))


def run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {proc.returncode}:\n{shown(proc.stdout + proc.stderr)}",
            pytrace=False,
        )
    return proc


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(["git", *args], cwd, check=check)


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD").stdout.strip()


@pytest.fixture
def template_repo(tmp_path) -> tuple[Path, str]:
    """A git repository holding the template's working tree as it is now; (path, commit A)."""
    listed = git(
        TEMPLATE_DIR, "ls-files", "-z", "--cached", "--others", "--exclude-standard"
    ).stdout
    repo = tmp_path / "template"
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE_DIR / name
        if not source.is_file():  # deleted in the working tree, or a submodule
            continue
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    git(repo, "init", "--quiet", "--initial-branch=main")
    return repo, commit_all(repo, "template: commit A")


def template_commit_b(repo: Path) -> str:
    """Change the template: a line in gunicorn.conf.py, a README heading, a new file."""
    project = repo / SLUG_DIR
    with (project / "gunicorn.conf.py").open("a", encoding="utf-8") as handle:
        handle.write(GUNICORN_LINE)
    readme = project / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert text.count(README_HEADING_OLD) == 1, "the template README changed: update this test"
    readme.write_text(text.replace(README_HEADING_OLD, README_HEADING_NEW), encoding="utf-8")
    (project / NEW_FILE).write_text(NEW_FILE_TEXT, encoding="utf-8")
    return commit_all(repo, "template: commit B")


def bake_with_cruft(repo: Path, output: Path, config: Path) -> Path:
    run([tool("cruft"), "create", "--no-input", "--output-dir", str(output), str(repo)], output)
    return output / SLUG


def bake_with_cookiecutter(repo: Path, output: Path, config: Path) -> Path:
    # Run from the template folder with a relative path, as the README's first command does.
    run(
        [
            tool("cookiecutter"),
            "--no-input",
            "--config-file",
            str(config),
            "--output-dir",
            str(output),
            ".",
        ],
        repo,
    )
    return output / SLUG


BAKERS = {"cruft-create": bake_with_cruft, "cookiecutter": bake_with_cookiecutter}


def changed_paths(site: Path) -> set[str]:
    status = git(site, "status", "--porcelain", "--untracked-files=all").stdout
    return {line[3:] for line in status.splitlines()}


@pytest.mark.parametrize("baker", list(BAKERS))
def test_cruft_update_brings_template_changes_and_keeps_the_sites_own(
    baker, template_repo, tmp_path, cookiecutter_config
):
    repo, commit_a = template_repo
    output = tmp_path / "sites"
    output.mkdir()
    site = BAKERS[baker](repo, output, cookiecutter_config)

    state = json.loads((site / ".cruft.json").read_text(encoding="utf-8"))
    assert state["template"] == str(repo)
    assert state["commit"] == commit_a
    assert state["context"]["cookiecutter"]["project_slug"] == SLUG

    # The site's owners put it under git and make it their own.
    env_before = (site / ".env").read_bytes()
    git(site, "init", "--quiet", "--initial-branch=main")
    commit_all(site, "site: baked from the template")
    assert ".env" not in git(site, "ls-files").stdout.split(), ".env must stay git-ignored"
    with (site / "README.md").open("a", encoding="utf-8") as handle:
        handle.write(SITE_README_TEXT)
    (site / SITE_FILE).parent.mkdir(parents=True, exist_ok=True)
    (site / SITE_FILE).write_text(SITE_FILE_TEXT, encoding="utf-8")
    commit_all(site, "site: our own pages")

    check = run([tool("cruft"), "check"], site, check=False)
    assert check.returncode == 0, "cruft check failed before the template changed:\n" + shown(
        check.stdout + check.stderr
    )

    commit_b = template_commit_b(repo)

    check = run([tool("cruft"), "check"], site, check=False)
    assert check.returncode != 0, "cruft check missed commit B:\n" + shown(check.stdout)
    assert "out of date" in check.stdout

    update = run([tool("cruft"), "update", "--skip-apply-ask"], site)
    output_text = update.stdout + update.stderr
    assert "Failed to apply" not in output_text, shown(output_text)

    # Commit B arrived.
    assert (site / "gunicorn.conf.py").read_text(encoding="utf-8").endswith(GUNICORN_LINE)
    assert (site / NEW_FILE).read_text(encoding="utf-8") == (
        "# Upgrading CFMP\n\nNotes from template commit B.\n"
    )
    readme = (site / "README.md").read_text(encoding="utf-8")
    assert README_HEADING_NEW in readme and README_HEADING_OLD not in readme
    # The owners' edits survived, and nothing else moved.
    assert readme.endswith(SITE_README_TEXT)
    assert (site / SITE_FILE).read_text(encoding="utf-8") == SITE_FILE_TEXT
    assert (site / ".env").read_bytes() == env_before, "cruft update changed the local .env"
    leftovers = [p.name for p in site.rglob("*") if p.suffix in {".rej", ".orig"}]
    assert not leftovers, f"unmerged leftovers: {leftovers}"
    conflicted = [
        str(p.relative_to(site))
        for p in site.rglob("*")
        if p.is_file() and ".git" not in p.parts and "<<<<<<<" in p.read_text(errors="replace")
    ]
    assert not conflicted, f"conflict markers in {conflicted}"
    assert changed_paths(site) == {".cruft.json", "gunicorn.conf.py", "README.md", NEW_FILE}

    state = json.loads((site / ".cruft.json").read_text(encoding="utf-8"))
    assert state["commit"] == commit_b

    check = run([tool("cruft"), "check"], site, check=False)
    assert check.returncode == 0, "cruft check after the update:\n" + shown(
        check.stdout + check.stderr
    )
    assert "up to date" in check.stdout


def test_plain_cookiecutter_records_what_cruft_create_records(
    template_repo, tmp_path, cookiecutter_config
):
    """The post hook's .cruft.json says what cruft's own does, for the same template commit."""
    repo, _ = template_repo
    states = {}
    for name, baker in BAKERS.items():
        output = tmp_path / name
        output.mkdir()
        site = baker(repo, output, cookiecutter_config)
        state = json.loads((site / ".cruft.json").read_text(encoding="utf-8"))
        # Each bake draws its own admin path: the record holds the one its settings use.
        drawn = state["context"]["cookiecutter"].pop("admin_url")
        settings = (site / SLUG / "settings" / "base.py").read_text(encoding="utf-8")
        assert f'DEFAULT_ADMIN_URL = "{drawn}"' in settings, name
        states[name] = state
    assert states["cookiecutter"] == states["cruft-create"]


def test_a_template_outside_git_bakes_and_says_how_to_link(tmp_path, cookiecutter_config):
    """Without git history there is no commit to record: no .cruft.json, and a hint instead."""
    copy = tmp_path / "template-copy"
    listed = git(TEMPLATE_DIR, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.stdout.split("\0")):
        if (TEMPLATE_DIR / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE_DIR / name, copy / name)
    # GIT_CEILING_DIRECTORIES keeps git from finding a repository above the copy (e.g. /tmp).
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    proc = subprocess.run(
        [
            tool("cookiecutter"),
            "--no-input",
            "--config-file",
            str(cookiecutter_config),
            "--output-dir",
            str(tmp_path / "out"),
            str(copy),
        ],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, shown(proc.stdout + proc.stderr)
    assert not (tmp_path / "out" / SLUG / ".cruft.json").exists()
    assert "cruft link" in proc.stdout


def test_the_legacy_readmes_move_to_iac_works(template_repo, tmp_path):
    """The legacy site README's "Moving to Infrastructure as Code" command, run as written,
    replaces railway.toml with a .railway/railway.py that the Railway CLI can evaluate."""
    from tests.support.railway_cli import evaluate, graph_from, service

    repo, _ = template_repo
    output = tmp_path / "sites"
    output.mkdir()
    legacy = json.dumps({"railway_config": "railway.toml"})
    run([tool("cruft"), "create", "--no-input", "--extra-context", legacy,
         "--output-dir", str(output), str(repo)], output)  # fmt: skip
    site = output / SLUG
    assert (site / "railway.toml").is_file() and not (site / ".railway").exists()
    git(site, "init", "--quiet", "--initial-branch=main")
    commit_all(site, "site: baked with railway.toml")

    readme = (site / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Moving to Infrastructure as Code", 1)[1].split("\n## ", 1)[0]
    [command] = [line for line in section.splitlines() if line.startswith("cruft update")]
    args = shlex.split(command)
    update = run([tool("cruft"), *args[1:]], site)
    assert "Failed to apply" not in update.stdout + update.stderr, shown(update.stdout)

    assert not (site / "railway.toml").exists()
    graph = graph_from(evaluate(site))
    web = service(graph, "web")
    assert web["deploy"]["preDeployCommand"] == [
        f"python manage.py deploy --settings={SLUG}.settings.production"
    ]
    state = json.loads((site / ".cruft.json").read_text(encoding="utf-8"))
    assert state["context"]["cookiecutter"]["railway_config"] == "iac"
