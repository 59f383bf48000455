"""The post-generation hook's next steps fit the answers: IaC or legacy railway.toml, Redis or not.

Each case bakes the real template (pytest-cookies) and reads what the hook printed. The
expected commands are written out here from the Railway facts (shared/RAILWAY.md) and the
site's README, not taken from the hook; and every command printed must also be one the baked
site's README gives for the same answers, so the two cannot drift apart.
"""

from __future__ import annotations

import re

import pytest

from tests.support.combinations import TEMPLATE_DIR, extra_context

SET_KEY_COMMAND = (
    "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    " | railway variable set SECRET_KEY --stdin --service {service}"
)


def expected_commands(answers: dict) -> list[str]:
    """The commands, in order, that a person with these answers has to run.

    IaC: apply creates the web service without a source, so nothing deploys until `railway up`,
    after SECRET_KEY is set (RAILWAY.md, section 10: preserve() creates nothing). A custom domain
    is added with the CLI, since the plan refuses to register one.
    """
    service = answers.get("railway_service_name", "web")
    redis = answers.get("use_redis", False)
    domain = answers.get("custom_domain", "")
    if answers.get("railway_config", "iac") == "iac":
        commands = [
            "pip install railway-sdk==0.7.0",
            "railway login",
            "railway init",
            "railway config plan",
            "railway config apply",
            SET_KEY_COMMAND.format(service=service),
            f"railway up --ci --service {service}",
            f"railway domain --service {service}",
        ]
        if domain:
            commands.append(f"railway domain {domain} --port 8080 --service {service}")
    else:
        commands = ["railway login", "railway link", "railway add --database postgres"]
        if redis:
            commands.append("railway add --database redis")
        commands.append(
            "railway variable set 'DATABASE_URL=${{Postgres.DATABASE_URL}}'"
            f" --service {service}"
        )
        if redis:
            commands.append(
                f"railway variable set 'REDIS_URL=${{{{Redis.REDIS_URL}}}}' --service {service}"
            )
        if answers.get("media_storage") == "bucket":
            commands += [
                "railway bucket create Bucket",
                "railway variable set 'BUCKET=${{Bucket.BUCKET}}'"
                " 'ACCESS_KEY_ID=${{Bucket.ACCESS_KEY_ID}}'"
                " 'SECRET_ACCESS_KEY=${{Bucket.SECRET_ACCESS_KEY}}'"
                " 'REGION=${{Bucket.REGION}}' 'ENDPOINT=${{Bucket.ENDPOINT}}'"
                f" --service {service}",
            ]
        commands += [SET_KEY_COMMAND.format(service=service), f"railway domain --service {service}"]
        if domain:
            commands.append(f"railway domain {domain} --service {service}")
    return commands


CASES = [
    pytest.param({}, id="iac"),
    pytest.param({"use_redis": True}, id="iac-redis"),
    pytest.param({"railway_config": "railway.toml"}, id="legacy"),
    pytest.param({"railway_config": "railway.toml", "use_redis": True}, id="legacy-redis"),
    pytest.param({"media_storage": "bucket"}, id="iac-bucket"),
    pytest.param({"railway_config": "railway.toml", "media_storage": "bucket"}, id="legacy-bucket"),
    pytest.param(
        {"custom_domain": "food.example.org", "railway_service_name": "food-web"},
        id="iac-domain-service",
    ),
    pytest.param(
        {
            "railway_config": "railway.toml",
            "use_redis": True,
            "custom_domain": "food.example.org",
            "railway_service_name": "food-web",
        },
        id="legacy-redis-domain-service",
    ),
]


def printed_commands(output: str) -> list[str]:
    """The commands under step 6: indented lines, the (explanation) at the end removed."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("6. "))
    end = next(i for i, line in enumerate(lines) if line.strip().startswith("7. "))
    commands = []
    for line in lines[start + 1 : end]:
        text = re.sub(r"\s{2,}\(.*\)$", "", line.strip())
        if text.startswith(("railway ", "pip ", "python -c ")):
            commands.append(text)
    return commands


def readme_commands(readme: str) -> set[str]:
    """Every command the README shows: code-block lines (comments cut) and inline code."""
    found = set(re.findall(r"`([^`\n]+)`", readme))
    for block in re.findall(r"```[a-z]*\n(.*?)```", readme, re.DOTALL):
        for line in block.splitlines():
            found.add(re.sub(r"\s+#.*$", "", line).strip())
    return found


@pytest.fixture
def baked_with_output(cookies, capfd):
    def bake(answers):
        result = cookies.bake(extra_context=extra_context(answers), template=str(TEMPLATE_DIR))
        out, err = capfd.readouterr()
        assert result.exit_code == 0, err
        return result.project_path, out

    return bake


@pytest.mark.parametrize("answers", CASES)
def test_next_steps_list_the_commands_these_answers_need(baked_with_output, answers):
    project, out = baked_with_output(answers)
    commands = printed_commands(out)
    assert commands == expected_commands(answers)

    # Every command is one the site's README gives for the same answers.
    documented = readme_commands((project / "README.md").read_text(encoding="utf-8"))
    for command in commands:
        assert command in documented, f"not in the site's README: {command}"


@pytest.mark.parametrize("answers", CASES)
def test_next_steps_say_nothing_that_does_not_apply(baked_with_output, answers):
    _, out = baked_with_output(answers)
    iac = answers.get("railway_config", "iac") == "iac"
    service = answers.get("railway_service_name", "web")
    if not answers.get("use_redis"):
        assert "redis" not in out.lower()
    if answers.get("media_storage") != "bucket":
        assert "bucket" not in out.lower()
    elif iac:
        assert "and a bucket; nothing deploys yet" in out
    if iac:
        # The IaC file creates the databases and sets DATABASE_URL: no hand-made references.
        for text in ("railway add", "DATABASE_URL=", "2026-12-01"):
            assert text not in out, text
        assert f"creates the {service} service" in out
    else:
        for text in ("railway config", "railway-sdk", ".railway/railway.py"):
            assert text not in out, text
        assert "2026-12-01" in out, "the legacy path must say when Railway stops reading it"
    flags = re.findall(r"--service (\S+)", out)
    assert flags and set(flags) == {service}, flags
    domain = answers.get("custom_domain")
    if domain:
        assert domain in out
    else:
        assert "DNS" not in out


def test_steps_are_numbered_and_end_with_the_readme(baked_with_output):
    _, out = baked_with_output({})
    numbered = [line.strip()[:2] for line in out.splitlines() if re.match(r"\s+\d\. ", line)]
    assert numbered == ["1.", "2.", "3.", "4.", "5.", "6.", "7."]
    assert '"First deploy on Railway"' in out
    assert "cruft update" in out
