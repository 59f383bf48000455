"""Hostile answers to every free-text question: refused cleanly, or baked into valid files.

Hypothesis draws one question and a value for it: arbitrary Unicode, quotes, backslashes, line
breaks, Jinja syntax, shell syntax, path tricks, very long text, or a plausible valid answer
(so that strict questions also bake). Each bake runs cookiecutter in a fresh folder, in a child
process (one for all the examples, ``Baker``), as a user's --no-input bake with that answer
would, and then either:

- was refused: non-zero exit, exactly one "ERROR: <question> ..." line, and the output folder is
  empty; or
- succeeded: every .py file compiles, every TOML/YAML/JSON file parses, shell scripts pass
  shellcheck, and the value reads back unchanged where it is meant to appear.

Either way nothing appears next to the output folder (a listing of its parent before and after).
Examples are derandomized (the same ones on every run) and counted; the count is printed.
"""

from __future__ import annotations

import ast
import json
import select
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import tomllib
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.combinations import TEMPLATE_DIR, expected_slug, extra_context
from tests.support.processes import tool

EXAMPLES = 70
FREE_TEXT = [
    "project_name",
    "project_slug",
    "project_description",
    "author_name",
    "author_email",
    "github_repository",
    "custom_domain",
    "admin_url",
    "railway_service_name",
    "deploy_branches",
    "time_zone",
]
FRAGMENTS = [
    "'",
    '"',
    "\\",
    "\\n",
    "\n",
    "\r\n",
    "\t",
    "{{ x }}",
    "{{",
    "}}",
    "{% if x %}",
    "{%",
    "{#",
    "$(id)",
    "`id`",
    "${HOME}",
    "../",
    "..",
    "/",
    "/etc/x",
    "~",
    ";",
    "&&",
    "|",
    "#",
    ":",
    ",",
    " ",
    "<b>",
    "&amp;",
    "%s",
    "é",
    "名前",
    "🍞",
    "\u202e",
    "\u2028",
    "\u200d",
    "-",
    ".",
    "_",
    "@",
    "main",
    "food",
    "x" * 300,
]
BAKER = """
import json, os, sys, tempfile
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
for line in sys.stdin:
    job = json.loads(line)
    os.chdir(job["cwd"])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush(); sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
        try:
            cookiecutter(
                job["template"],
                no_input=True,
                extra_context=job["answers"],
                output_dir=job["output_dir"],
                config_file=job["config_file"],
            )
            code = 0
        except FailedHookException:
            code = 1
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException as error:
            print(f"UNEXPECTED {type(error).__name__}: {error}", file=sys.stderr)
            code = 3
        sys.stdout.flush(); sys.stderr.flush()
        os.dup2(saved[0], 1); os.dup2(saved[1], 2)
        os.close(saved[0]); os.close(saved[1])
        out.seek(0); err.seek(0)
        result = {"code": code, "stdout": out.read().decode("utf-8", "replace"),
                  "stderr": err.read().decode("utf-8", "replace")}
    answers.write(json.dumps(result) + "\\n")
    answers.flush()
"""


def plausible(question: str) -> st.SearchStrategy[str]:
    """Answers of the right shape, so strict questions sometimes bake too."""
    branch = st.from_regex(r"\A[a-z][a-z0-9]{0,6}(/[a-z0-9]{1,5})?\Z")
    shapes = {
        "project_slug": st.from_regex(r"\A[a-z][a-z0-9_]{0,12}\Z"),
        "author_email": st.from_regex(r"\A[a-z0-9._%+-]{1,10}@[a-z0-9-]{1,10}\.[a-z]{2,5}\Z"),
        "github_repository": st.from_regex(
            r"\A[A-Za-z0-9][A-Za-z0-9-]{0,10}/[A-Za-z0-9._-]{1,12}\Z"
        ),
        "custom_domain": st.from_regex(r"\A([a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\.){1,3}[a-z]{2,6}\Z"),
        "admin_url": st.from_regex(r"\A[a-z0-9_-]{1,12}(/[a-z0-9_-]{1,8})?/\Z"),
        "railway_service_name": st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\Z"),
        "deploy_branches": st.lists(branch, min_size=1, max_size=3, unique=True).map(",".join),
        "time_zone": st.sampled_from(
            ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Asia/Kolkata"]
        ),
    }
    return shapes.get(question, st.text(min_size=1, max_size=60))


def hostile_text() -> st.SearchStrategy[str]:
    pieces = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6))
    return st.one_of(
        st.lists(pieces, max_size=8).map("".join),
        st.text(max_size=40),
        st.text(min_size=120, max_size=400),
    )


@st.composite
def answers(draw) -> tuple[str, str]:
    question = draw(st.sampled_from(FREE_TEXT))
    value = draw(st.one_of(hostile_text(), plausible(question)))
    # The harness wraps --no-input answers in {% raw %}...{% endraw %} (see extra_context); a
    # value that itself closes that block cannot be carried that way. A typed answer could.
    if "endraw" in value:
        value = value.replace("endraw", "end_raw")
    return question, value


def listing(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def literal(source: str, name: str):
    """The value of a top-level ``NAME = <literal>`` in a Python module."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"no {name} = ... in the module")


def string_constants(source: str) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def check_files(project: Path) -> None:
    """Everything generated parses: Python, TOML, YAML, JSON; shell scripts pass shellcheck."""
    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        name = path.name
        if name.endswith(".py"):
            compile(text, str(path), "exec")
        elif name.endswith(".toml"):
            tomllib.loads(text)
        elif name.endswith((".yml", ".yaml")):
            yaml.safe_load(text)
        elif name.endswith(".json"):
            json.loads(text)
    scripts = [p for p in project.rglob("*.sh")]
    assert scripts, "no shell script to check"
    proc = subprocess.run(
        [tool("shellcheck"), *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def check_read_back(project: Path, question: str, value: str) -> None:
    """The answer arrives verbatim where it is meant to appear."""
    recorded = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert recorded[question] == value
    slug = recorded["project_slug"]
    assert project.name == slug
    settings_dir = project / slug / "settings"
    base = (settings_dir / "base.py").read_text(encoding="utf-8")
    if question == "project_name":
        assert literal(base, "PROJECT_NAME") == value
    elif question == "project_description":
        assert literal(base, "PROJECT_DESCRIPTION") == value
    elif question in ("author_name", "author_email"):
        (admin,) = literal(base, "ADMINS")
        assert admin[0 if question == "author_name" else 1] == value
    elif question == "time_zone":
        assert literal(base, "TIME_ZONE") == value
    elif question == "custom_domain":
        production = (settings_dir / "production.py").read_text(encoding="utf-8")
        assert value in string_constants(production)
    elif question == "admin_url":
        assert literal(base, "DEFAULT_ADMIN_URL") == value
    elif question == "github_repository":
        # The IaC service has no source (the workflow deploys): the README names the repository.
        readme = (project / "README.md").read_text(encoding="utf-8")
        assert f"`{value}`" in readme
    elif question == "deploy_branches":
        workflow = yaml.safe_load(
            (project / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
        )
        trigger = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key on as True
        assert trigger["push"]["branches"] == value.split(",")
    elif question == "railway_service_name":
        workflow = (project / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
        assert value in workflow


class Baker:
    """A child process that bakes one job after another, each as ``cookiecutter --no-input``.

    Every bake is a fresh ``cookiecutter()`` call in the job's own folder (its working
    directory too); its output, the hooks' included, is captured at the file-descriptor level
    and returned with its exit code. One process for all the examples saves starting Python and
    importing cookiecutter again for each of them.
    """

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", BAKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def bake(
        self, workdir: Path, answers: dict[str, str], config_file: Path, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        """Return the outcome of baking ``answers`` into ``workdir/out`` (made here)."""
        output_dir = workdir / "out"
        output_dir.mkdir()
        job = {
            "template": str(TEMPLATE_DIR),
            "answers": extra_context(answers),
            "output_dir": str(output_dir),
            "config_file": str(config_file),
            "cwd": str(workdir),
        }
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        assert ready, f"no answer from the baker within {timeout} s for {answers!r}"
        line = self.process.stdout.readline()
        assert line, f"the baker exited ({self.process.poll()}) on {answers!r}"
        result = json.loads(line)
        return subprocess.CompletedProcess(
            job, result["code"], stdout=result["stdout"], stderr=result["stderr"]
        )

    def close(self) -> None:
        """End the child process (its stdin closed, it exits 0)."""
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def baker():
    baker = Baker()
    yield baker
    baker.close()


def test_hostile_answers(baker, cookiecutter_config, tmp_path):
    outcomes = {"refused": 0, "baked": 0}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(answers())
    def one_bake(drawn: tuple[str, str]) -> None:
        question, value = drawn
        workdir = Path(tempfile.mkdtemp(dir=tmp_path))
        before = listing(workdir)
        proc = baker.bake(workdir, {question: value}, cookiecutter_config)
        where = f"{question}={value!r}\nstdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr}"
        assert proc.returncode in (0, 1), where
        output_dir = workdir / "out"
        if proc.returncode == 1:
            outcomes["refused"] += 1
            errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR:")]
            assert len(errors) == 1, where
            named = {question}
            if question == "project_name":
                named.add("project_slug")  # the slug is derived from the name
            assert any(errors[0].startswith(f"ERROR: {name} ") for name in named), where
            assert listing(output_dir) == [], where
        else:
            outcomes["baked"] += 1
            slug = expected_slug({question: value})
            assert listing(output_dir)[:1] == [slug], where
            project = output_dir / slug
            check_files(project)
            check_read_back(project, question, value)
        assert [entry for entry in listing(workdir) if not entry.startswith("out")] == before, where

    one_bake()
    total = outcomes["refused"] + outcomes["baked"]
    baked, refused = outcomes["baked"], outcomes["refused"]
    print(f"\nhostile answers tried: {total} ({baked} baked, {refused} refused)")
    assert total == EXAMPLES
    assert outcomes["baked"] >= 10 and outcomes["refused"] >= 10, outcomes


@pytest.mark.parametrize("slug", ["../escape", "a/b", "<absolute>", "", ".", ".."])
def test_path_like_slug_writes_nothing_anywhere(baker, cookiecutter_config, tmp_path, slug):
    """cookiecutter makes the project folder before the pre-generation hook runs; the slug is
    checked while the answers are read, so these never create or address a folder."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    absolute = tmp_path / "absolute-escape"
    slug = str(absolute) if slug == "<absolute>" else slug
    proc = baker.bake(workdir, {"project_slug": slug}, cookiecutter_config)
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and errors[0].startswith("ERROR: project_slug "), proc.stderr
    assert listing(tmp_path) == ["work", "work/out"]
    assert not absolute.exists()
