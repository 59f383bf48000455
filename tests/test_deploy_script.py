"""The baked deploy.sh explains itself with --help and refuses what it does not understand.

Each case runs the real script with bash, from another folder, with a PATH whose ``railway``
only records that it was called (and, for ``variable list``, prints the variables a test gives
it): a wrong command line must stop before anything is deployed, and so must a service without
SECRET_KEY, on which the first deploy would fail.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.combinations import answer, combination

COMBINATIONS = ["default", "custom-domain-py310-bsd", "hostile-name-py313"]
# Every option the script's parser accepts, as the README and the issue name them.
OPTIONS = ["--skip-tests", "--service", "--environment", "--domain", "-h, --help"]


@pytest.fixture
def runner(tmp_path):
    """run(project, *args) -> CompletedProcess; plus the file a called ``railway`` writes."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "railway-calls"
    fake = bin_dir / "railway"
    variables = tmp_path / "railway-variables.json"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{calls}"\n'
        f'if [ "$1 $2" = "variable list" ]; then cat "{variables}" || exit 1; fi\n'
        'if [ "$1" = up ] && [ -n "$FAKE_UP_SECONDS" ]; then sleep "$FAKE_UP_SECONDS"; fi\n',
        encoding="utf-8",
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    bash = shutil.which("bash")
    assert bash, "bash is needed"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [bash, str(project / "deploy.sh"), *args],
            cwd=elsewhere,
            env={
                "PATH": f"{bin_dir}:/usr/bin:/bin",
                "HOME": str(tmp_path),
                "LANG": "C.UTF-8",
                # git must not find a repository above the test folder.
                "GIT_CEILING_DIRECTORIES": str(tmp_path),
                **(env or {}),
            },
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    run.calls = calls
    run.variables = variables
    return run


@pytest.mark.parametrize("combination_id", COMBINATIONS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_explains_every_option(get_baked, runner, combination_id, flag):
    project = get_baked(combination_id)
    result = runner(project, flag)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    text = result.stdout
    assert text.startswith("Usage: ./deploy.sh ")
    for option in OPTIONS:
        assert f"\n  {option}" in text, f"--help does not explain {option}"
    service = answer(combination(combination_id).answers, "railway_service_name")
    assert f"(default: {service})" in text
    for name in ("RAILWAY_TOKEN", "RAILWAY_PUBLIC_DOMAIN", "Exit status"):
        assert name in text
    assert not runner.calls.exists(), "--help called the Railway CLI"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "unknown option: --bogus"),
        (["-x"], "unknown option: -x"),
        (["--skip-test"], "unknown option: --skip-test"),  # a typo of --skip-tests
        (["--skip-tests", "--dry-run"], "unknown option: --dry-run"),
        (["--help=yes"], "unknown option: --help=yes"),
        (["production"], "unexpected argument: production"),
        (["--service"], "--service needs a value"),
        (["--service", "--skip-tests"], "--service needs a value"),
        (["--domain="], "--domain needs a value"),
    ],
)
def test_a_wrong_command_line_is_refused_before_anything_runs(get_baked, runner, args, message):
    project = get_baked("default")
    result = runner(project, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"deploy.sh: {message}")
    assert len(lines) == 2, f"expected one line and a hint, got:\n{result.stderr}"
    assert "--help" in lines[1]
    assert not runner.calls.exists(), "the Railway CLI was called despite a wrong option"


def test_good_options_get_past_parsing(get_baked, runner, tmp_path):
    """The same runner does reach the preflight with valid options (so the refusals above are
    the parser's doing): outside a git work tree the script stops there, after `railway whoami`.
    """
    project = tmp_path / "site"
    shutil.copytree(get_baked("default"), project)
    result = runner(project, "--skip-tests", "--service=web", "--environment", "staging")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "deploy.sh: not inside a git work tree" in result.stderr
    assert runner.calls.read_text(encoding="utf-8").splitlines() == ["whoami"]
    assert os.access(project / "deploy.sh", os.X_OK)


@pytest.fixture
def committed_site(get_baked, tmp_path):
    """A copy of the default site in a git work tree with everything committed."""
    project = tmp_path / "site"
    shutil.copytree(get_baked("default"), project)
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "site"]):
        subprocess.run([*git, *args], check=True, capture_output=True, timeout=60)
    return project


def test_a_service_without_secret_key_is_not_deployed(committed_site, runner):
    """The first deploy would fail (the site refuses to start): stop before `railway up`."""
    runner.variables.write_text(
        '{\n  "DATABASE_URL": "postgresql://u:p@postgres.railway.internal:5432/railway"\n}\n',
        encoding="utf-8",
    )
    result = runner(committed_site, "--skip-tests")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "deploy.sh: SECRET_KEY is not set on service 'web'" in result.stderr
    assert "railway variable set SECRET_KEY --stdin --service web" in result.stderr
    assert "postgresql://" not in result.stdout + result.stderr, "a variable's value was shown"
    calls = runner.calls.read_text(encoding="utf-8").splitlines()
    assert calls == ["whoami", "variable list --service web --environment production --json"]


def test_a_service_with_secret_key_is_deployed(committed_site, runner):
    runner.variables.write_text('{\n  "SECRET_KEY": "k3y-of-fifty-characters"\n}\n', "utf-8")
    result = runner(committed_site, "--skip-tests")
    assert result.returncode == 0, result.stdout + result.stderr
    calls = runner.calls.read_text(encoding="utf-8").splitlines()
    assert calls[-1] == "up --ci --service web --environment production"
    assert "k3y-of-fifty" not in result.stdout + result.stderr


def test_a_deploy_that_never_ends_is_stopped(committed_site, runner):
    """`railway up --ci` waits for ever on a replaced deployment: the timeout ends it."""
    runner.variables.write_text('{\n  "SECRET_KEY": "k3y-of-fifty-characters"\n}\n', "utf-8")
    env = {"DEPLOY_TIMEOUT_SECONDS": "1", "FAKE_UP_SECONDS": "20"}
    result = runner(committed_site, "--skip-tests", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "deploy.sh: railway up still waiting after 1 s" in result.stderr
