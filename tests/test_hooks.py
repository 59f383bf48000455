"""Tests of hooks/pre_gen_project.py and hooks/post_gen_project.py, through real bakes.

The hooks are Jinja templates, so they cannot be imported: every test bakes with
pytest-cookies and looks at the exit code, the captured output and the files.

Most tests bake a *stub* template: the real cookiecutter.json and the real hooks, with a
tiny project folder that holds one placeholder for every file the post hook may delete.
That keeps them fast and independent of the site's own files. The tests at the end bake
the real template.
"""

import json
import keyword
import re
import shutil
import stat
import sys
import types
from pathlib import Path

import pytest
from cookiecutter.config import BUILTIN_ABBREVIATIONS
from cookiecutter.repository import expand_abbreviations, is_repo_url

TEMPLATE = Path(__file__).resolve().parents[1]
SLUG_DIR = "{{cookiecutter.project_slug}}"
BASE = {"project_slug": "food_bank"}
HOSTILE_NAME = 'Tom\'s "Food" \\ $HOME {{ x }} {% y %}'


def raw(text):
    """Wrap text so cookiecutter's Jinja rendering of --no-input answers gives it back unchanged.

    (An interactive answer is never rendered; an extra_context answer is.)
    """
    return "{% raw %}" + text + "{% endraw %}"


def template_context():
    return json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))


def make_stub_template(directory, overrides=None):
    """Write a stub template into directory; overrides replace cookiecutter.json defaults."""
    context = template_context()
    context.update(overrides or {})
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cookiecutter.json").write_text(json.dumps(context), encoding="utf-8")
    shutil.copytree(TEMPLATE / "hooks", directory / "hooks")
    project = directory / SLUG_DIR
    (project / ".railway").mkdir(parents=True)
    (project / ".railway" / "railway.py").write_text("# stub\n", encoding="utf-8")
    (project / "railway.toml").write_text("# stub\n", encoding="utf-8")
    (project / "LICENSE").write_text("stub\n", encoding="utf-8")
    (project / "README.md").write_text("# {{ cookiecutter.project_name }}\n", encoding="utf-8")
    return directory


@pytest.fixture
def stub_template(tmp_path):
    return make_stub_template(tmp_path / "stub-template")


def error_lines(text):
    return [line for line in text.splitlines() if line.startswith("ERROR:")]


# (id, question, bad value). Choice questions and booleans cannot be given a bad value
# through extra_context (cookiecutter refuses it before the hook runs), so for those the
# stub template's cookiecutter.json carries the bad value as the default: that is how a
# hand-edited replay file or a fork would deliver it.
REJECTED = [
    ("name-empty", "project_name", ""),
    ("name-blank", "project_name", "   "),
    ("name-newline", "project_name", "Food\nBank"),
    ("name-nul", "project_name", "Food\x00Bank"),
    ("name-bidi-override", "project_name", "Food\u202eBank"),
    ("name-too-long", "project_name", "F" * 81),
    ("slug-keyword", "project_slug", "class"),
    ("slug-soft-keyword", "project_slug", "match"),
    ("slug-stdlib", "project_slug", "json"),
    ("slug-dependency", "project_slug", "django"),
    ("slug-shadows-tests", "project_slug", "tests"),
    ("slug-uppercase", "project_slug", "FoodBank"),
    ("slug-starts-with-digit", "project_slug", "1food"),
    ("slug-hyphen", "project_slug", "food-bank"),
    ("slug-too-long", "project_slug", "f" * 41),
    ("description-newline", "project_description", "one\ntwo"),
    ("description-too-long", "project_description", "d" * 201),
    ("author-empty", "author_name", ""),
    ("author-tab", "author_name", "CFMP\tTeam"),
    ("email-no-at", "author_email", "team.example.org"),
    ("email-quote", "author_email", 'te"am@example.org'),
    ("email-angle-brackets", "author_email", "<team@example.org>"),
    ("email-too-long", "author_email", "a" * 250 + "@example.org"),
    ("repo-no-slash", "github_repository", "cfmp"),
    ("repo-url", "github_repository", "https://github.com/your-org/cfmp"),
    ("repo-double-hyphen", "github_repository", "your--org/cfmp"),
    ("repo-trailing-hyphen", "github_repository", "your-org-/cfmp"),
    ("repo-name-dotdot", "github_repository", "your-org/.."),
    ("domain-scheme", "custom_domain", "https://food.example.org/"),
    ("domain-port", "custom_domain", "food.example.org:8443"),
    ("domain-single-label", "custom_domain", "localhost"),
    ("domain-uppercase", "custom_domain", "Food.Example.org"),
    ("domain-label-hyphen", "custom_domain", "-food.example.org"),
    ("domain-numeric-tld", "custom_domain", "food.example.123"),
    ("django-unsupported", "django_version", "4.2"),
    ("python-unsupported", "python_version", "3.9"),
    ("railway-config-unknown", "railway_config", "railway.json"),
    ("service-uppercase", "railway_service_name", "Web"),
    ("service-leading-hyphen", "railway_service_name", "-web"),
    ("service-too-long", "railway_service_name", "w" * 33),
    ("service-is-the-worker", "railway_service_name", "worker"),
    ("branches-empty", "deploy_branches", ""),
    ("branch-space", "deploy_branches", "main,my branch"),
    ("branch-dotdot", "deploy_branches", "main,release..1"),
    ("branch-lock", "deploy_branches", "main,topic.lock"),
    ("branch-empty-item", "deploy_branches", "main,,dev"),
    ("branch-duplicate", "deploy_branches", "main,dev,main"),
    ("branch-leading-dash", "deploy_branches", "-main"),
    ("branch-trailing-slash", "deploy_branches", "feature/"),
    ("branch-at-brace", "deploy_branches", "main@{1}"),
    ("branch-shell", "deploy_branches", "main;rm"),
    ("branch-at", "deploy_branches", "@"),
    ("sentry-string", "use_sentry", "yes"),
    ("redis-string", "use_redis", "n"),
    ("email-backend-unknown", "email_backend", "sendmail"),
    ("time-zone-unknown", "time_zone", "Mars/Olympus_Mons"),
    ("time-zone-shell", "time_zone", "UTC;rm"),
    ("license-unknown", "license", "GPL-3.0"),
]


@pytest.mark.parametrize(
    ("question", "value"),
    [pytest.param(question, value, id=case_id) for case_id, question, value in REJECTED],
)
def test_invalid_answer_is_rejected_with_one_line(cookies, tmp_path, capfd, question, value):
    default = template_context()[question]
    # A bad value of a choice or yes/no question must come from cookiecutter.json itself.
    if isinstance(default, list) or isinstance(default, bool):
        template = make_stub_template(tmp_path / "variant", {question: value})
        result = cookies.bake(extra_context=BASE, template=str(template))
    else:
        answers = {**BASE, question: raw(value) if "{" in value else value}
        result = cookies.bake(extra_context=answers, template=str(TEMPLATE))
    out, err = capfd.readouterr()

    assert result.exit_code != 0
    assert result.project_path is None
    bake_dirs = list((tmp_path / "cookies").iterdir())
    # A slug that is not a plain name is refused while the answers are read (cookiecutter.json's
    # __project_slug_checked), before cookiecutter creates any folder; every other bad answer
    # is refused by the pre-generation hook inside the (then removed) project folder.
    if not (question == "project_slug" and not re.match(r"^[a-z][a-z0-9_]{0,39}$", value)):
        assert bake_dirs, "the bake did not run"
    assert all(not any(bake_dir.iterdir()) for bake_dir in bake_dirs), "files were left behind"
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert len(err.strip().splitlines()) == 1, err
    assert lines[0].startswith(f"ERROR: {question} "), lines[0]
    assert repr(value)[:40] in lines[0], lines[0]
    assert "Next steps" not in out


def test_error_line_is_short_and_suggests_a_slug(cookies, capfd):
    result = cookies.bake(extra_context={"project_slug": "class"}, template=str(TEMPLATE))
    _, err = capfd.readouterr()
    assert result.exit_code != 0
    assert err.strip() == (
        "ERROR: project_slug 'class' is not valid: a Python keyword; "
        "choose another slug, e.g. 'class_site'"
    )


def test_long_bad_value_is_truncated(cookies, capfd):
    result = cookies.bake(
        extra_context={**BASE, "project_description": "x" * 500}, template=str(TEMPLATE)
    )
    _, err = capfd.readouterr()
    assert result.exit_code != 0
    (line,) = error_lines(err)
    assert "x" * 61 not in line
    assert "500 characters" in line


def test_url_as_domain_says_give_only_the_host_name(cookies, capfd):
    result = cookies.bake(
        extra_context={**BASE, "custom_domain": "https://food.example.org/"},
        template=str(TEMPLATE),
    )
    _, err = capfd.readouterr()
    assert result.exit_code != 0
    assert "give only the host name, e.g. 'food.example.org'" in err


@pytest.mark.parametrize("slug", sorted(set(keyword.kwlist) - {"False", "None", "True"}))
def test_every_keyword_slug_is_rejected(cookies, capfd, slug):
    result = cookies.bake(extra_context={"project_slug": slug}, template=str(TEMPLATE))
    _, err = capfd.readouterr()
    assert result.exit_code != 0
    assert "a Python keyword" in err


@pytest.mark.parametrize("python", ["3.10", "3.11"])
def test_django_6_refuses_a_python_it_does_not_support(cookies, capfd, python):
    result = cookies.bake(
        extra_context={**BASE, "django_version": "6.1", "python_version": python},
        template=str(TEMPLATE),
    )
    _, err = capfd.readouterr()
    assert result.exit_code != 0
    assert result.project_path is None
    assert err.strip().splitlines() == error_lines(err)
    (line,) = error_lines(err)
    assert line.startswith(f"ERROR: python_version '{python}' ")
    assert "Django 6.1 supports Python '3.12', '3.13'" in line


ACCEPTED = [
    pytest.param({"project_name": raw(HOSTILE_NAME)}, id="hostile-name"),
    pytest.param({"project_name": "Épicerie solidaire – Zürich 🍞"}, id="unicode-name"),
    pytest.param({"project_name": "N" * 80, "project_description": "d" * 200}, id="max-lengths"),
    pytest.param({"project_slug": "f" * 40}, id="slug-40-chars"),
    pytest.param({"project_description": ""}, id="empty-description"),
    pytest.param(
        {"project_description": "It's '''a''' and \"\"\"b\"\"\" $(id) `id` <b>&amp; \\"},
        id="quotes-and-shell-in-description",
    ),
    pytest.param({"custom_domain": "food.example.org"}, id="custom-domain"),
    pytest.param({"custom_domain": "xn--bcher-kva.example"}, id="punycode-domain"),
    pytest.param({"deploy_branches": "main,release/2026.1"}, id="branch-with-slash-and-dot"),
    pytest.param({"deploy_branches": "main,FALL2025,feature/a_b-c"}, id="three-branches"),
    pytest.param({"github_repository": "a/b.c_d-e"}, id="short-owner-repo"),
    pytest.param({"railway_service_name": "cfmp-web-1"}, id="service-with-hyphens"),
    pytest.param({"time_zone": "Europe/Berlin"}, id="time-zone"),
    pytest.param({"time_zone": "America/Argentina/Buenos_Aires"}, id="time-zone-3-parts"),
    pytest.param(
        {"python_version": "3.10", "use_sentry": "n", "use_redis": "y"}, id="y-n-booleans"
    ),
    pytest.param({"django_version": "6.1", "python_version": "3.13"}, id="django-6.1-py313"),
]


@pytest.mark.parametrize("answers", ACCEPTED)
def test_valid_edge_answers_bake(cookies, stub_template, capfd, answers):
    result = cookies.bake(extra_context={**BASE, **answers}, template=str(stub_template))
    out, err = capfd.readouterr()
    assert result.exit_code == 0, err
    assert result.exception is None
    assert error_lines(err) == []
    recorded = json.loads((result.project_path / ".cookiecutter.json").read_text(encoding="utf-8"))
    for question, value in answers.items():
        expected = HOSTILE_NAME if value == raw(HOSTILE_NAME) else value
        expected = {"y": True, "n": False}.get(expected, expected)
        assert recorded[question] == expected


def test_hostile_name_reads_back_exactly(cookies, stub_template):
    result = cookies.bake(
        extra_context={**BASE, "project_name": raw(HOSTILE_NAME)}, template=str(stub_template)
    )
    assert result.exit_code == 0
    recorded = json.loads((result.project_path / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert recorded["project_name"] == HOSTILE_NAME
    assert (result.project_path / "README.md").read_text(encoding="utf-8") == f"# {HOSTILE_NAME}\n"


# ---------------------------------------------------------------- post_gen_project.py


def post_hook_module():
    """Return hooks/post_gen_project.py as a module, its two Jinja values rendered empty.

    Only for its pure functions: everything else of the hook is tested through real bakes.
    """
    source = (TEMPLATE / "hooks" / "post_gen_project.py").read_text(encoding="utf-8")
    source = source.replace("{{ cookiecutter|tojson }}", "{}")
    source = source.replace("{{ cookiecutter|template_directory|tojson }}", '""')
    module = types.ModuleType("post_gen_project")
    exec(compile(source, "post_gen_project.py", "exec"), module.__dict__)  # noqa: S102
    return module


@pytest.mark.parametrize(
    "template",
    [
        "gh:acme/cfmp-railway",
        "gl:acme/cfmp-railway",
        "bb:acme/cfmp-railway",
        "https://github.com/acme/cfmp-railway.git",
        "git+ssh://git@example.org/acme/cfmp-railway.git",
        "git@github.com:acme/cfmp-railway.git",
        "file:///srv/templates/cfmp-railway",
        "/home/me/cfmp-railway",
        "../cfmp-railway",
        "cfmp-railway",
    ],
)
def test_recorded_template_source_follows_cookiecutters_rules(template):
    """.cruft.json names what cookiecutter itself would clone, or else the local checkout."""
    toplevel = "/checkout/of/the/template"
    abbreviations = post_hook_module().ABBREVIATIONS
    assert abbreviations == BUILTIN_ABBREVIATIONS
    expanded = expand_abbreviations(template, abbreviations)
    expected = expanded if is_repo_url(expanded) else toplevel
    assert post_hook_module().template_url(template, toplevel) == expected


def read_env(project):
    values = {}
    for line in (project / ".env").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_env_file_has_a_fresh_private_secret_key(cookies, stub_template, capfd):
    first = cookies.bake(extra_context=BASE, template=str(stub_template))
    second = cookies.bake(extra_context=BASE, template=str(stub_template))
    out, err = capfd.readouterr()
    assert first.exit_code == 0 and second.exit_code == 0, err

    keys = []
    for result in (first, second):
        env_path = result.project_path / ".env"
        if sys.platform != "win32":
            assert stat.S_IMODE(env_path.stat().st_mode) == 0o600
        text = env_path.read_text(encoding="utf-8")
        assert text.startswith("#") and "never commit" in text.splitlines()[0].lower()
        assert "# DATABASE_URL=postgres://postgres@127.0.0.1:5432/food_bank\n" in text
        values = read_env(result.project_path)
        assert set(values) == {"SECRET_KEY"}, "only SECRET_KEY is set; the rest is commented"
        key = values["SECRET_KEY"]
        assert len(key) >= 50
        assert len(set(key)) >= 5
        assert not key.startswith("django-insecure")
        assert set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert key not in out and key not in err
        keys.append(key)
    assert keys[0] != keys[1]


def test_answers_are_recorded_byte_identically(cookies, stub_template):
    # The admin path is drawn per bake (pinned here), and recorded like every answer.
    answers = {
        **BASE,
        "project_name": raw(HOSTILE_NAME),
        "use_redis": "y",
        "admin_url": "staff-pinned/",
    }
    first = cookies.bake(extra_context=answers, template=str(stub_template))
    second = cookies.bake(extra_context=answers, template=str(stub_template))
    assert first.exit_code == 0 and second.exit_code == 0

    data = (first.project_path / ".cookiecutter.json").read_bytes()
    assert data == (second.project_path / ".cookiecutter.json").read_bytes()
    assert data.endswith(b"}\n")
    recorded = json.loads(data)
    assert (
        data.decode("utf-8")
        == json.dumps(recorded, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    )
    assert [key for key in recorded if key.startswith("_")] == []
    assert recorded["admin_url"] == "staff-pinned/"
    expected = {key: value for key, value in first.context.items() if not key.startswith("_")}
    assert recorded == expected
    assert recorded["project_name"] == HOSTILE_NAME
    assert recorded["use_redis"] is True
    assert str(first.project_path) not in data.decode("utf-8")


@pytest.mark.parametrize(
    ("answers", "absent", "present"),
    [
        pytest.param(
            {"railway_config": "iac"},
            ["railway.toml"],
            [".railway/railway.py", "LICENSE"],
            id="iac",
        ),
        pytest.param(
            {"railway_config": "railway.toml"},
            [".railway"],
            ["railway.toml", "LICENSE"],
            id="railway-toml",
        ),
        pytest.param(
            {"license": "Proprietary"},
            ["LICENSE", "railway.toml"],
            [".railway/railway.py"],
            id="proprietary",
        ),
        pytest.param({"license": "BSD-3-Clause"}, ["railway.toml"], ["LICENSE"], id="bsd"),
    ],
)
def test_unselected_files_are_removed(cookies, stub_template, answers, absent, present):
    result = cookies.bake(extra_context={**BASE, **answers}, template=str(stub_template))
    assert result.exit_code == 0
    for name in absent:
        assert not (result.project_path / name).exists(), name
    for name in present:
        assert (result.project_path / name).exists(), name


def test_existing_env_is_kept(cookies, stub_template):
    (stub_template / SLUG_DIR / ".env").write_text("KEEP=me\n", encoding="utf-8")
    result = cookies.bake(extra_context=BASE, template=str(stub_template))
    assert result.exit_code == 0
    assert (result.project_path / ".env").read_text(encoding="utf-8") == "KEEP=me\n"


@pytest.mark.parametrize(
    ("answers", "wanted", "unwanted"),
    [
        pytest.param(
            {"railway_config": "iac", "use_redis": "n"},
            [
                "railway link",
                "railway config apply",
                "web service, the worker and PostgreSQL",
                "SECRET_KEY",
            ],
            ["Redis", "${{Postgres.DATABASE_URL}}"],
            id="iac",
        ),
        pytest.param(
            {"railway_config": "iac", "use_redis": "y"},
            ["railway config apply", "PostgreSQL and Redis"],
            ["${{Postgres.DATABASE_URL}}"],
            id="iac-redis",
        ),
        pytest.param(
            {"railway_config": "railway.toml", "use_redis": "n"},
            ["railway.toml", "${{Postgres.DATABASE_URL}}", "SECRET_KEY"],
            ["railway config apply", "Redis"],
            id="railway-toml",
        ),
        pytest.param(
            {"railway_config": "railway.toml", "use_redis": "y"},
            ["railway.toml", "${{Postgres.DATABASE_URL}}", "${{Redis.REDIS_URL}}"],
            ["railway config apply"],
            id="railway-toml-redis",
        ),
    ],
)
def test_next_steps_fit_the_answers(cookies, stub_template, capfd, answers, wanted, unwanted):
    answers = {**BASE, "github_repository": "food-org/food-bank", **answers}
    result = cookies.bake(extra_context=answers, template=str(stub_template))
    out, err = capfd.readouterr()
    assert result.exit_code == 0, err
    assert err == ""
    numbered = [line.strip()[:2] for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert numbered == ["1.", "2.", "3.", "4.", "5.", "6.", "7."]
    for text in [
        "cd food_bank",
        "make install",
        "food-org/food-bank",
        "secrets.token_urlsafe(50)",
        "railway variable set",
        "Deploy",
        *wanted,
    ]:
        assert text in out, text
    for text in unwanted:
        assert text not in out, text


def test_post_hook_failure_is_one_line(cookies, stub_template, capfd):
    # A folder named .cookiecutter.json makes writing the answers fail.
    (stub_template / SLUG_DIR / ".cookiecutter.json").mkdir()
    (stub_template / SLUG_DIR / ".cookiecutter.json" / "keep").write_text("", encoding="utf-8")
    result = cookies.bake(extra_context=BASE, template=str(stub_template))
    _, err = capfd.readouterr()
    assert result.exit_code != 0
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("ERROR: could not finish the project:")


# ---------------------------------------------------------------- the real template


@pytest.mark.parametrize("railway_config", ["iac", "railway.toml"])
def test_real_template_bakes_hostile_answers(cookies, capfd, railway_config):
    answers = {
        **BASE,
        "project_name": raw(HOSTILE_NAME),
        "custom_domain": "food.example.org",
        "deploy_branches": "main,release/2026.1",
        "railway_config": railway_config,
        "license": "Proprietary",
    }
    result = cookies.bake(extra_context=answers, template=str(TEMPLATE))
    out, err = capfd.readouterr()
    assert result.exit_code == 0, f"{result.exception!r}\n{err}"
    project = result.project_path
    recorded = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert recorded["project_name"] == HOSTILE_NAME
    assert (project / ".env").is_file()
    assert not (project / "LICENSE").exists()
    if railway_config == "iac":
        assert not (project / "railway.toml").exists()
        assert "railway config apply" in out
    else:
        assert not (project / ".railway").exists()
        assert "railway.toml" in out
