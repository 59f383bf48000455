"""The two package managers a site can have, and the habits every site starts with.

uv (the default): the site is what Railpack's Python provider installs with uv (a pyproject.toml
and a uv.lock, no requirements.txt, which would make it pick pip), its lock satisfies its
pyproject (``uv lock --locked``, what ``uv sync --locked`` demands), and its production install
done as Railpack does it holds exactly the lock's production packages. pip: the hashed
requirements files, with the same pins as the uv lock of the same answers. Both: the Makefile's
``check`` is what the workflow runs, and ``pre-commit run --all-files`` passes on a fresh site
with hooks installed from the package index (none from GitHub), and refuses a ``.env``.

The emulated Railway deploy of a uv site is tests/test_railway_emulation.py (its default).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import tomllib
import yaml
from packaging.markers import Marker, default_environment

from tests.support.combinations import BY_ID, answer
from tests.support.processes import CACHE_DIR, file_lock, tail, tool
from tests.support.venvs import RAILPACK_UV_SYNC, build_venv, python_for

#: The hooks' environments, shared between runs (pre-commit installs them from the registry once).
PRE_COMMIT_HOME = CACHE_DIR / "pre-commit"
CHECK_COMMANDS = [
    r"-m ruff check \.",
    r"-m ruff format --check \.",
    r"manage\.py test",
    r"manage\.py makemigrations --check --dry-run --settings=\S+\.settings\.test",
    r"manage\.py check --deploy --fail-level WARNING --settings=\S+\.settings\.production",
]


def run(cmd: list[str], cwd, env=None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def exported_pins(project, *flags: str) -> set[str]:
    """Return ``name==version ; marker`` of every package ``uv export --frozen`` gives."""
    proc = run(
        [tool("uv"), "export", "--frozen", "--offline", "--no-header", "--no-hashes",
         "--no-annotate", "--no-emit-project", *flags],
        project,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {line.strip() for line in proc.stdout.splitlines() if line.strip()}


def requirement_pins(text: str) -> set[str]:
    return {
        line.rstrip(" \\")
        for line in text.splitlines()
        if line and not line.startswith((" ", "#", "-r"))
    }


def test_uv_site_is_a_uv_project_for_railpack(get_baked):
    """Railpack: requirements.txt means pip; pyproject.toml with uv.lock means uv."""
    project = get_baked("default")
    assert (project / "uv.lock").is_file()
    assert not (project / "requirements.txt").exists()
    assert not (project / "requirements-dev.txt").exists()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["tool"]["uv"]["package"] is False, "a site, not a package to build"
    names = {
        re.split(r"[\[<>=!~ ]", d, maxsplit=1)[0].lower()
        for d in pyproject["project"]["dependencies"]
    }
    assert {"django", "gunicorn", "psycopg", "whitenoise", "dj-database-url"} <= names, names
    assert "sentry-sdk" in names and "redis" not in names, "the default answers: Sentry, no Redis"
    dev = {d.split(">")[0] for d in pyproject["dependency-groups"]["dev"]}
    assert {"ruff", "pre-commit", "python-dotenv", "tblib"} <= dev, dev
    # .python-version (what Railpack's mise, uv and setup-python read) is one the lock covers.
    version = (project / ".python-version").read_text(encoding="utf-8").strip()
    low = pyproject["project"]["requires-python"].removeprefix(">=")
    assert tuple(map(int, version.split("."))) >= tuple(map(int, low.split("."))), (version, low)


@pytest.mark.parametrize("combination_id", ["default", "redis", "django-6.1", "hostile-name-py313"])
def test_uv_lock_satisfies_the_pyproject(get_baked, combination_id):
    """`uv lock --locked` (offline) accepts the baked lock: `uv sync --locked` would too."""
    project = get_baked(combination_id)
    python, _ = python_for(answer(BY_ID[combination_id].answers, "python_version"))
    proc = run([tool("uv"), "lock", "--locked", "--offline", "--python", python], project)
    assert proc.returncode == 0, proc.stderr
    lock = tomllib.loads((project / "uv.lock").read_text(encoding="utf-8"))
    packages = {p["name"] for p in lock["package"]}
    redis = answer(BY_ID[combination_id].answers, "use_redis")
    sentry = answer(BY_ID[combination_id].answers, "use_sentry")
    assert ("redis" in packages) == redis and ("sentry-sdk" in packages) == sentry, packages
    assert ("django-csp" in packages) == (
        answer(BY_ID[combination_id].answers, "django_version") == "5.2"
    )


def test_pip_site_has_the_same_pins_as_the_uv_site(get_baked):
    """The pip site's hashed requirements pin exactly what the uv site's lock exports."""
    pip_site, uv_site = get_baked("pip"), get_baked("default")
    assert not (pip_site / "uv.lock").exists()
    pyproject = tomllib.loads((pip_site / "pyproject.toml").read_text(encoding="utf-8"))
    assert "project" not in pyproject, "a pip site declares its dependencies in requirements.txt"
    production = requirement_pins((pip_site / "requirements.txt").read_text(encoding="utf-8"))
    dev = requirement_pins((pip_site / "requirements-dev.txt").read_text(encoding="utf-8"))
    assert production == exported_pins(uv_site, "--no-dev")
    assert production | dev == exported_pins(uv_site)
    assert "-r requirements.txt" in (pip_site / "requirements-dev.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_uv_production_install_is_the_locks_production_part(get_baked):
    """Railpack's two `uv sync --locked --no-dev` steps install the lock's production packages.

    No dev tool reaches the production venv, and every production package is there at its pin.
    """
    project = get_baked("default")
    python, _ = python_for(answer({}, "python_version"))
    venv_python = build_venv(project, python, "requirements.txt")
    assert [list(step[:2]) for step in RAILPACK_UV_SYNC] == [["sync", "--locked"]] * 2
    listed = run([venv_python, "-c", LIST_DISTRIBUTIONS], project)
    assert listed.returncode == 0, listed.stderr
    installed = set(listed.stdout.split())
    full_version = python_version(python)
    environment = {
        **default_environment(),
        "python_full_version": full_version,
        "python_version": ".".join(full_version.split(".")[:2]),
    }
    wanted = set()
    for pin in exported_pins(project, "--no-dev"):
        requirement, _, marker = pin.partition(" ; ")
        if not marker or Marker(marker).evaluate(environment):
            wanted.add(requirement.lower())
    assert installed == wanted, (sorted(installed - wanted), sorted(wanted - installed))
    assert not {"ruff", "pre-commit", "tblib"} & {p.split("==")[0] for p in installed}


LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m\n"
    "names = {(d.metadata['Name'].lower().replace('_', '-'), d.version)\n"
    "         for d in m.distributions()}\n"
    "print(' '.join(f'{n}=={v}' for n, v in sorted(names) if n not in ('pip', 'setuptools')))"
)


def python_version(python: str) -> str:
    proc = run([python, "-c", "import platform; print(platform.python_version())"], ".")
    return proc.stdout.strip()


@pytest.mark.parametrize("combination_id", ["default", "pip"])
def test_make_check_is_what_ci_runs(get_baked, combination_id):
    """`make check` runs ruff, the tests, makemigrations --check and check --deploy; CI calls it."""
    project = get_baked(combination_id)
    if shutil.which("make") is None:
        pytest.skip("make is not installed (Debian: make)")
    dry = run(["make", "--dry-run", "check"], project)
    assert dry.returncode == 0, dry.stderr
    for pattern in CHECK_COMMANDS:
        assert re.search(pattern, dry.stdout), f"make check lacks {pattern}:\n{dry.stdout}"
    uv = combination_id != "pip"
    assert ("uv run --locked python" in dry.stdout) == uv, dry.stdout
    for target in ("run", "test", "lint", "deploy", "install"):
        assert run(["make", "--dry-run", target], project).returncode == 0, target
    workflow = yaml.safe_load(
        (project / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
    )
    steps = workflow["jobs"]["test"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert "make check" in runs, runs
    assert not any("manage.py" in text for text in runs), "CI runs manage.py only through make"
    uses = [step.get("uses", "") for step in steps]
    setup_uv = [step for step in steps if step.get("uses", "").startswith("astral-sh/setup-uv@")]
    if uv:
        assert len(setup_uv) == 1, uses
        assert re.fullmatch(r"\d+\.\d+\.\d+", setup_uv[0]["with"]["version"])
        assert setup_uv[0]["with"]["cache-dependency-glob"] == "uv.lock"
        assert "uv sync --locked" in runs
    else:
        assert not setup_uv, uses
        assert "python -m pip install --require-hashes -r requirements-dev.txt" in runs


def test_pre_commit_hooks_are_local_and_pinned(get_baked):
    for combination_id, line in (("default", "5.2"), ("django-6.1", "6.1")):
        config = yaml.safe_load(
            (get_baked(combination_id) / ".pre-commit-config.yaml").read_text(encoding="utf-8")
        )
        assert [repo["repo"] for repo in config["repos"]] == ["local"], "no hook from GitHub"
        hooks = {hook["id"]: hook for hook in config["repos"][0]["hooks"]}
        for hook in hooks.values():
            assert hook["language"] in ("python", "fail"), hook
            for dependency in hook.get("additional_dependencies", []):
                assert re.fullmatch(r"[a-z0-9-]+==\d+(\.\d+)+", dependency), dependency
        assert {"ruff-check", "ruff-format", "django-upgrade", "no-env-files"} <= set(hooks)
        assert f"--target-version {line}" in hooks["django-upgrade"]["entry"]


@pytest.mark.slow
def test_pre_commit_runs_on_a_fresh_site_and_refuses_env_files(get_baked, tmp_path):
    """`pre-commit run --all-files` passes on a baked site; a committed .env is refused."""
    project = tmp_path / "site"
    shutil.copytree(get_baked("default"), project, symlinks=True)
    python, _ = python_for(answer({}, "python_version"))
    venv_python = build_venv(project, python)
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(PRE_COMMIT_HOME),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"]):
        assert run(cmd, project, env).returncode == 0, cmd
    pre_commit = [str(venv_python), "-m", "pre_commit", "run", "--all-files", "--color", "never"]
    with file_lock(PRE_COMMIT_HOME.with_name("pre-commit.lock")):
        passed = run(pre_commit, project, env, timeout=900)
    assert passed.returncode == 0, tail(passed.stdout + passed.stderr)
    assert "Failed" not in passed.stdout, passed.stdout
    changed = run(["git", "diff", "--stat"], project, env).stdout
    assert not changed, f"a hook changed files of the fresh site:\n{changed}"

    assert (project / ".env").is_file(), "the bake writes a local .env"
    assert run(["git", "add", "--force", ".env"], project, env).returncode == 0
    refused = run(pre_commit, project, env, timeout=900)
    assert refused.returncode != 0, refused.stdout
    assert re.search(r"no \.env files.*Failed", refused.stdout), refused.stdout
    assert ".env" in refused.stdout
