"""Evaluate ``.railway/railway.py`` the way Railway's CLI does, and apply the CLI's plan rules.

Read from the CLI's source (railwayapp/cli 5.43.1) and written here in our own words:

- ``src/iac/eval.rs``: ``railway config plan|apply`` run ``python3 -c <loader> <file>`` with the
  ``python3`` found on PATH (no virtual-environment detection), from the directory the CLI was
  started in. The loader imports the file as a module named ``railway_iac_user``, reads
  ``PARTIAL`` (or ``Partial``, ``partial``), takes ``main`` (else ``Railway``, else ``default``),
  calls it with no argument when it is callable, calls ``to_graph()`` on the result when it has
  one, and prints one JSON object ``{"partial": ..., "project": ...}``. A non-zero exit, or
  anything on stdout that is not that one JSON document, fails the plan.
- ``src/iac/change_set.rs``: a custom domain the service does not already have is an error
  ("Custom-domain registration is not supported by Railway configuration"); a service variable
  that exists on Railway and is not in the file is planned as "Delete variable"; a variable the
  file marks ``preserve()`` is neither set nor deleted (so it creates nothing either).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: The CLI's program for Python IaC files, restated: load, pick the entry point, print JSON.
LOADER = """
import importlib.util, json, sys

spec = importlib.util.spec_from_file_location("railway_iac_user", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)


def first(*names):
    for name in names:
        value = getattr(module, name, None)
        if value:
            return value
    return None


partial = first("PARTIAL", "Partial", "partial")
entry = first("main", "Railway", "default")
project = entry() if callable(entry) else entry
if hasattr(project, "to_graph"):
    project = project.to_graph()
print(json.dumps({"partial": partial, "project": project}, default=str))
"""

#: What the plan says for a custom domain the service does not have yet.
DOMAIN_REFUSAL = (
    "Custom-domain registration is not supported by Railway configuration. "
    "Add {domain} in the dashboard, then run railway config pull."
)


class EvaluationError(AssertionError):
    """The CLI would stop here: the file failed to run or printed something else than JSON."""


def cli_path(python_bin: Path | None = None) -> str:
    """Return a PATH on which ``python3`` is the interpreter that has railway-sdk installed.

    A person runs the CLI with their virtual environment active; the tests' own venv plays it.
    """
    folder = Path(python_bin or sys.executable).parent
    return os.pathsep.join([str(folder), "/usr/local/bin", "/usr/bin", "/bin"])


def evaluate(project: Path, *, python_bin: Path | None = None) -> dict[str, Any]:
    """Return ``{"partial": ..., "project": <graph>}`` for the project's IaC file.

    The file runs in a fresh ``python3`` process started from the project's root, with a clean
    environment (PATH and HOME only), as ``railway config plan`` starts it; only
    PYTHONDONTWRITEBYTECODE is added, so the shared baked folders stay as baked.
    """
    path = project / ".railway" / "railway.py"
    if not path.is_file():
        raise EvaluationError(f"{path} does not exist")
    proc = subprocess.run(
        ["python3", "-c", LOADER, str(path.resolve())],
        cwd=project,
        env={
            "PATH": cli_path(python_bin),
            "HOME": os.environ.get("HOME", "/root"),
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    stdout, stderr = proc.stdout.strip(), proc.stderr.strip()
    if proc.returncode != 0:
        raise EvaluationError(f"python3 failed to evaluate the IaC file:\n{stderr}\n{stdout}")
    try:
        payload = json.loads(stdout)
    except json.JSONDecodeError:
        raise EvaluationError(
            f"python3 returned non-JSON output:\nstdout:\n{stdout}\nstderr:\n{stderr}"
        ) from None
    if not isinstance(payload, dict):
        raise EvaluationError(f"the evaluation printed {type(payload).__name__}, not an object")
    return payload


def graph_from(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the project graph of an evaluation, with the defaults the CLI fills in."""
    project = payload.get("project") or payload.get("graph") or payload
    if not isinstance(project, dict):
        raise EvaluationError(f"the project is {type(project).__name__}, not an object")
    project = dict(project)
    project.setdefault("name", "app")
    resources = []
    for resource in project.get("resources") or project.get("Resources") or []:
        resource = dict(resource)
        kind = resource.get("type", "service")
        resource.setdefault("address", f"{kind}.{resource.get('name', 'web')}")
        if kind == "service":
            resource.setdefault("kind", "empty")
        resources.append(resource)
    project["resources"] = resources
    return project


def service(graph: dict[str, Any], name: str) -> dict[str, Any]:
    """Return the one service node called ``name``."""
    found = [
        node
        for node in graph["resources"]
        if node.get("type") == "service" and node.get("name") == name
    ]
    if len(found) != 1:
        names = [node.get("name") for node in graph["resources"]]
        raise AssertionError(f"expected one service named {name!r}, the graph has {names}")
    return found[0]


def domain_refusals(graph: dict[str, Any], existing: Iterable[str] = ()) -> list[str]:
    """Return the plan's error for each custom domain a service would have to register.

    ``existing`` are the domains the service already has on Railway (none for a new project).
    """
    existing = set(existing)
    refusals = []
    for node in graph["resources"]:
        domains = (node.get("networking") or {}).get("customDomains") or {}
        for domain in domains:
            if domain not in existing:
                refusals.append(f"{node['address']}: {DOMAIN_REFUSAL.format(domain=domain)}")
    return refusals


def is_preserved(value: Any) -> bool:
    """Return True for a ``preserve()`` value: apply keeps whatever Railway has."""
    return isinstance(value, dict) and value.get("type") == "preserve"


def planned_deletions(node: dict[str, Any], on_railway: Iterable[str]) -> list[str]:
    """Return the variables ``config apply`` would delete from this service.

    ``on_railway`` are the names the service has on Railway; every one the file does not
    declare (as a value, a reference or ``preserve()``) is planned as "Delete variable".
    """
    declared = set(node.get("variables") or {})
    return sorted(name for name in on_railway if name not in declared)


def created_variables(node: dict[str, Any]) -> dict[str, Any]:
    """Return the variables ``config apply`` sets on a new service: all but the preserved."""
    return {
        name: value
        for name, value in (node.get("variables") or {}).items()
        if not is_preserved(value)
    }
