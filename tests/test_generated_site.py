"""Install each baked site from its own hashed lock and run it: tests, migrations, deploy checks.

Slow (installs the site's dependencies once per Python and lock; cached across runs under
~/.cache/cfmp-railway/venvs). Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import re
import secrets

import pytest

from tests.support.combinations import COMBINATIONS, answer
from tests.support.live_site import Site, prepared_site, public_domain
from tests.support.s3_server import bucket_variables

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(request, get_baked, tmp_path_factory):
    """A private copy of the baked project, its venv, a fresh database, and the environment."""
    with prepared_site(get_baked, tmp_path_factory, request.param.id, "site", deploy=False) as site:
        yield site


def production_env(site: Site) -> dict[str, str]:
    """Return what Railway gives a production container: a new SECRET_KEY, the domain, and the
    bucket's variables when the site has one (a bucket on the tests' S3 server)."""
    key = secrets.token_urlsafe(50)
    site.secrets.append(key)
    env = {
        "SECRET_KEY": key,
        "RAILWAY_PUBLIC_DOMAIN": public_domain(site.slug),
    }
    if answer(site.answers, "media_storage") == "bucket":
        bucket = bucket_variables(site.combination_id)
        site.secrets.append(bucket["SECRET_ACCESS_KEY"])
        env.update(bucket, AWS_S3_ADDRESSING_STYLE="path")
    return env


# Under pytest-xdist each combination is a work unit of its own (tests/support/scheduling.py):
# its four checks share one worker and one module fixture, the combinations run side by side.
each_site = pytest.mark.parametrize(
    "site", COMBINATIONS, ids=[c.id for c in COMBINATIONS], indirect=True
)


@each_site
def test_site_test_suite(site):
    """The site's own tests pass on PostgreSQL (and Redis), without a SECRET_KEY."""
    assert "SECRET_KEY" not in site.env
    code, output = site.run("manage.py", "test", "--noinput", "-v", "2")
    shown = site.show(output)
    assert code == 0, f"manage.py test exited {code}:\n{shown}"
    assert re.search(r"^OK\b", output, re.MULTILINE), f"no OK line:\n{shown}"
    assert not re.search(r"\bskipped\b", output, re.IGNORECASE), f"tests were skipped:\n{shown}"
    ran = re.search(r"^Ran (\d+) tests?", output, re.MULTILINE)
    assert ran, f"no 'Ran N tests' line:\n{shown}"
    assert int(ran.group(1)) > 10, f"only {ran.group(1)} tests ran"
    test_database = f"test_{site.database}"
    assert test_database in output, f"the tests did not use PostgreSQL ({test_database}):\n{shown}"


@each_site
def test_site_has_no_missing_migrations(site):
    code, output = site.run("manage.py", "makemigrations", "--check", "--dry-run")
    assert code == 0, f"missing migrations (exit {code}):\n{site.show(output)}"


@each_site
def test_site_migrations_pass_the_linter(site):
    """The CI step: django-migration-linter accepts the site's migrations as baked."""
    settings = f"--settings={site.slug}.settings.test"
    code, output = site.run("manage.py", "lintmigrations", "--no-cache", settings)
    assert code == 0, f"lintmigrations exited {code}:\n{site.show(output)}"


@each_site
def test_site_deploy_checks(site):
    """`check --deploy` with only what Railway provides: no warnings at all, none silenced."""
    settings = f"--settings={site.slug}.settings.production"
    code, output = site.run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        settings,
        extra_env=production_env(site),
    )
    shown = site.show(output)
    assert code == 0, f"check --deploy exited {code}:\n{shown}"
    assert "System check identified no issues (0 silenced)." in output, shown


@each_site
def test_site_collectstatic(site):
    """The build command's collectstatic works and writes the manifest (hashed names)."""
    settings = f"--settings={site.slug}.settings.production"
    code, output = site.run(
        "manage.py", "collectstatic", "--noinput", settings, extra_env=production_env(site)
    )
    shown = site.show(output)
    assert code == 0, f"collectstatic exited {code}:\n{shown}"
    manifest = site.project / "staticfiles" / "staticfiles.json"
    assert manifest.is_file(), f"no {manifest.relative_to(site.project)}:\n{shown}"
