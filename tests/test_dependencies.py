"""Pins are current and hashed; the workflows pin their actions and hold least privilege.

The lock check asks the package registry (the index pip uses, through its JSON Simple API, with
``pip index versions``' rules: no yanked file, Requires-Python and wheel tags respected) for each
pinned package and compares the pin with the newest release of the same line (major.minor): a
pin behind a patch release fails. Needs the registry; marked slow.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest
import yaml
from packaging import tags
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from tests.support.combinations import TEMPLATE_DIR
from tests.support.processes import tool

LOCKED_COMBINATIONS = ["default", "pip", "redis", "no-sentry-smtp-proprietary", "bucket"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
EXACT_ACTION = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")


def pins_with_hashes(text: str) -> list[tuple[str, str, int]]:
    """(name, version, number of --hash options) for every requirement of a hashed lock."""
    found: list[tuple[str, str, int]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-r", "-c", "--")):
            if stripped.startswith("--hash") and found:
                name, version, hashes = found[-1]
                found[-1] = (name, version, hashes + 1)
            continue
        match = PIN.match(stripped)
        assert match, f"not an exact pin: {line!r}"
        found.append((match[1].lower().replace("_", "-"), match[2], 0))
    return found


def lock_text(project) -> str:
    """Return the site's locks as requirements: the requirements files, or uv.lock's export."""
    if (project / "uv.lock").is_file():
        # Every package of uv.lock, dev group included, as hashed requirements (no network).
        proc = subprocess.run(
            [tool("uv"), "export", "--frozen", "--no-header", "--no-emit-project", "--offline"],
            cwd=project, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout
    return "\n".join(
        (project / name).read_text(encoding="utf-8")
        for name in ("requirements.txt", "requirements-dev.txt")
    )


#: A pin for older Pythons only, where the lock forks by Python version (uv's universal lock).
OLD_PYTHON_PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) ; python_full_version < '3\.(\d+)(?:\.0)?'", re.M
)


#: The registry's JSON form of the Simple API (PEP 691), which every current index serves.
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@cache
def index_url() -> str:
    """Return the index pip installs from here: PIP_INDEX_URL, pip's configuration, or PyPI."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].rstrip("/")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    configured = proc.stdout.strip() if proc.returncode == 0 else ""
    return (configured or "https://pypi.org/simple").rstrip("/")


def index_files(name: str) -> list[dict]:
    """Return the files the index lists for project ``name`` (PEP 691 JSON)."""
    url = f"{index_url()}/{name}/"
    request = urllib.request.Request(url, headers={"Accept": SIMPLE_JSON})  # noqa: S310 (pip's index)
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        kind = answer.headers.get_content_type()
        assert kind == SIMPLE_JSON, f"{url} answered {kind}, not {SIMPLE_JSON}"
        return json.load(answer)["files"]


def offered_versions(files: list[dict], python: str) -> tuple[Version, ...]:
    """Return the versions among ``files`` that pip would offer to Python ``python`` ("3.12").

    As ``pip index versions`` does: pre-releases and yanked files do not count, nor a file whose
    Requires-Python excludes ``python``, nor a wheel whose tags that Python cannot install on
    this machine. (pip also reads a few irregular names of 2015, such as cffi-1.2.0-1.tar.gz,
    that packaging refuses; no current pin is near them.)
    """
    target = Version(python)
    major, minor = target.release[:2]
    supported = {
        *tags.cpython_tags((major, minor)),
        *tags.compatible_tags((major, minor), interpreter=f"cp{major}{minor}"),
    }
    versions = set()
    for file in files:
        if file.get("yanked"):
            continue
        try:
            if file.get("requires-python") and target not in SpecifierSet(file["requires-python"]):
                continue
            if file["filename"].endswith(".whl"):
                _, version, _, file_tags = parse_wheel_filename(file["filename"])
                if supported.isdisjoint(file_tags):
                    continue
            else:
                version = parse_sdist_filename(file["filename"])[1]
        except (InvalidSpecifier, InvalidVersion, InvalidWheelFilename, InvalidSdistFilename):
            continue  # pip skips what it cannot read, too
        if not version.is_prerelease:
            versions.add(version)
    return tuple(sorted(versions, reverse=True))


@cache
def registry_versions(name: str, python: str | None = None) -> tuple[Version, ...]:
    """Return the versions the registry offers this Python, or Python ``python`` ("3.10")."""
    this_python = ".".join(map(str, sys.version_info[:3]))
    return offered_versions(index_files(name), python or this_python)


def release_line(version: Version) -> tuple[int, int]:
    release = (*version.release, 0, 0)
    return release[0], release[1]


def newest_in_line(pinned: str, available: tuple[Version, ...]) -> Version:
    pin = Version(pinned)
    same_line = [
        v for v in available if release_line(v) == release_line(pin) and not v.is_prerelease
    ]
    return max(same_line, default=pin)


def test_newest_in_line_picks_the_newest_patch():
    available = tuple(map(Version, ["4.1.2", "4.2.0", "4.2.3", "4.2.10", "5.0.0", "4.2.11rc1"]))
    assert newest_in_line("4.2.3", available) == Version("4.2.10")
    assert newest_in_line("4.1.2", available) == Version("4.1.2")
    assert newest_in_line("4.2", available) == Version("4.2.10")
    calendar = tuple(map(Version, ["2026.10.5", "2026.10.19", "2026.10.19.post1", "2026.11.1"]))
    assert newest_in_line("2026.10.19", calendar) == Version("2026.10.19.post1")


def test_offered_versions_follows_pips_rules():
    files = [
        {"filename": "demo-1.0.0.tar.gz"},
        {"filename": "demo-1.1.0-py3-none-any.whl", "yanked": "broken upload"},
        {"filename": "demo-1.2.0-py3-none-any.whl", "requires-python": ">=3.12"},
        {"filename": "demo-1.3.0-cp310-none-any.whl"},
        {"filename": "demo-1.4.0-cp313-none-any.whl"},
        {"filename": "demo-1.5.0.tar.gz", "requires-python": "not a specifier"},
        {"filename": "demo-1.6.0-py3-none-any.whl", "yanked": False},
        {"filename": "demo-1.7.0.tar.gz", "requires-python": ">=3.10,<3.12"},
        {"filename": "demo-1.8.0rc1-py3-none-any.whl"},
    ]
    assert offered_versions(files, "3.10") == tuple(
        map(Version, ["1.7.0", "1.6.0", "1.3.0", "1.0.0"])
    )
    assert offered_versions(files, "3.13.1") == tuple(
        map(Version, ["1.6.0", "1.4.0", "1.2.0", "1.0.0"])
    )


def test_pins_with_hashes_reads_a_lock():
    text = (
        "# header\nfoo==1.2.3 ; python_version < '3.11' \\\n    --hash=sha256:aa \\\n"
        "    --hash=sha256:bb\n    # via bar\nBar_Baz[x]==2.0 \\\n    --hash=sha256:cc\n"
    )
    assert pins_with_hashes(text) == [("foo", "1.2.3", 2), ("bar-baz", "2.0", 1)]


@pytest.mark.slow
@pytest.mark.parametrize("combination_id", LOCKED_COMBINATIONS)
def test_every_pin_is_hashed_and_the_newest_patch(get_baked, combination_id):
    text = lock_text(get_baked(combination_id))
    pins = pins_with_hashes(text)
    # A pin only for Pythons below 3.N is current when it is the newest those Pythons can install.
    older = {
        (m[1].lower().replace("_", "-"), m[2]): f"3.{int(m[3]) - 1}"
        for m in OLD_PYTHON_PIN.finditer(text)
    }
    assert len(pins) >= 15, pins
    unhashed = [f"{name}=={version}" for name, version, hashes in pins if hashes == 0]
    assert not unhashed, f"pins without --hash: {unhashed}"
    names = sorted({name for name, _, _ in pins})
    with ThreadPoolExecutor(max_workers=4) as pool:
        available = dict(zip(names, pool.map(registry_versions, names), strict=True))
    stale = []
    for name, version, _ in pins:
        newest = newest_in_line(version, available[name])
        if newest != Version(version) and (name, version) in older:
            newest = newest_in_line(version, registry_versions(name, older[name, version]))
        if newest != Version(version):
            stale.append(f"{name}=={version} (newest of its line: {newest})")
    print(f"\n{combination_id}: {len(pins)} pins, {len(names)} packages checked on the registry")
    assert not stale, "stale pins (update with scripts/lock.py):\n" + "\n".join(stale)


# --------------------------------------------------------------------------- workflows


def workflow_files(get_baked):
    files = {"template ci.yml": TEMPLATE_DIR / ".github" / "workflows" / "ci.yml"}
    for combination_id in ("default", "redis", "legacy-railway-toml"):
        project = get_baked(combination_id)
        files[f"{combination_id} deploy.yml"] = project / ".github" / "workflows" / "deploy.yml"
    return files


def uses_of(workflow: dict) -> list[str]:
    found = []
    for job in workflow.get("jobs", {}).values():
        if "uses" in job:
            found.append(job["uses"])
        for step in job.get("steps", []):
            if "uses" in step:
                found.append(step["uses"])
    return found


def permission_values(permissions) -> list[str]:
    if isinstance(permissions, str):
        return [permissions]
    return [str(value) for value in (permissions or {}).values()]


def test_workflows_pin_actions_and_hold_least_privilege(get_baked):
    for label, path in workflow_files(get_baked).items():
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        uses = uses_of(workflow)
        assert uses, f"{label}: no actions found"
        loose = [use for use in uses if not use.startswith("./") and not EXACT_ACTION.match(use)]
        assert not loose, f"{label}: actions not pinned to vX.Y.Z or a commit SHA: {loose}"
        assert "permissions" in workflow, f"{label}: no top-level permissions"
        top = workflow["permissions"]
        assert top == {"contents": "read"} or top == {}, f"{label}: top-level {top}"
        for name, job in workflow["jobs"].items():
            values = permission_values(job.get("permissions"))
            assert all(v in ("read", "none") for v in values), f"{label} job {name}: {values}"


@pytest.mark.parametrize("combination_id", ["default", "pip", "no-sentry-smtp-proprietary"])
def test_generated_workflow_audits_the_lock(get_baked, combination_id):
    project = get_baked(combination_id)
    workflow = yaml.safe_load(
        (project / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
    )
    runs = [step.get("run", "") for step in workflow["jobs"]["test"]["steps"]]
    audit = [run for run in runs if "pip-audit" in run]
    assert audit, "no pip-audit step in the test job"
    assert re.search(r"pip-audit==\d+\.\d+\.\d+", audit[0]), audit[0]
    if (project / "uv.lock").is_file():
        # A uv site audits the production part of its lock, exported as requirements.
        exported = re.search(r"uv export --frozen --no-dev \S.* --output-file (\S+)", audit[0])
        assert exported, audit[0]
        audited = re.escape(exported[1])
        assert "--no-dev" in audit[0]
    else:
        audited = r"requirements\.txt"
    assert re.search(rf"pip-audit\S*\s+(-r|--requirement)\s+{audited}", audit[0]), audit[0]


@pytest.mark.slow
def test_pip_audit_pin_is_current(get_baked):
    text = (get_baked("default") / ".github" / "workflows" / "deploy.yml").read_text("utf-8")
    (version,) = set(re.findall(r"pip-audit==(\d+\.\d+\.\d+)", text))
    newest = newest_in_line(version, registry_versions("pip-audit"))
    assert newest == Version(version), f"pip-audit=={version}; newest of its line: {newest}"


@pytest.mark.parametrize(("combination_id", "ecosystem"), [("default", "uv"), ("pip", "pip")])
def test_dependabot_covers_the_lock_and_actions(get_baked, combination_id, ecosystem):
    project = get_baked(combination_id)
    config = yaml.safe_load((project / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert ecosystems == {ecosystem, "github-actions"}, ecosystems
    for update in config["updates"]:
        assert update["directory"] == "/", update
        assert update["schedule"]["interval"] in ("daily", "weekly"), update
