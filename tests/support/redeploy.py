"""Redeploy a prepared site as Railway does, behind a real edge, while traffic flows.

``redeploy`` runs one release through Railway's deployment lifecycle (deployments/deployment-
teardown in Railway's docs): build, pre-deploy (migrations, while the old release serves),
start, healthcheck, the edge moves to the new release, the old one keeps running for the
overlap, then gets SIGTERM and, after the draining seconds, SIGKILL for whatever is left.
``new_image`` makes the next release's image, optionally with a migration that adds a column.
``ConnectionPeak`` samples how many PostgreSQL connections the site's database has.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.edge_proxy import EdgeProxy
from tests.support.live_site import Site
from tests.support.railway_emulator import Instance, Teardown

#: A migration in the site's own app that adds a nullable column to a table the old release
#: reads on every admin request (auth_user): the old code must not notice.
ADD_COLUMN = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [{dependencies}]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE users_user ADD COLUMN {column} text NULL",
            reverse_sql="ALTER TABLE users_user DROP COLUMN {column}",
        ),
    ]
"""


def new_image(site: Site, name: str, columns: list[str]) -> Path:
    """Return a copy of the site's image whose own app migrates in ``columns``, one by one."""
    image = site.deployment.workdir / name
    shutil.rmtree(image, ignore_errors=True)
    shutil.copytree(site.project, image, symlinks=True)
    if columns:
        migrations = image / site.slug / "migrations"
        migrations.mkdir(exist_ok=True)
        (migrations / "__init__.py").touch()
        previous = '("auth", "0001_initial")'
        for number, column in enumerate(columns, start=1):
            module = f"{number:04d}_add_{column}"
            (migrations / f"{module}.py").write_text(
                ADD_COLUMN.format(dependencies=previous, column=column), encoding="utf-8"
            )
            previous = f'("{site.slug}", "{module}")'
    return image


@dataclass
class Redeploy:
    """One redeploy: the new release, how the old one ended, the seconds of each step."""

    instance: Instance
    teardown: Teardown
    steps: dict[str, float]

    def describe(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.steps.items())


def redeploy(
    site: Site,
    edge: EdgeProxy,
    old: Instance,
    image: Path,
    name: str,
    *,
    overlap: float,
    draining: float,
    build: bool = True,
) -> Redeploy:
    """Deploy ``image`` as release ``name`` and tear ``old`` down as Railway does.

    ``build=False`` releases an image that is built already (a redeploy of the same code).
    """
    deployment, steps = site.deployment, {}
    commands = [("build", deployment.build)] if build else []
    for step, run in [*commands, ("pre-deploy", deployment.pre_deploy)]:
        result = run(image)
        steps[step] = result.seconds
        if result.returncode != 0:
            raise AssertionError(f"release {name}: {step} failed:\n{site.show(result.output)}")
    instance = deployment.instance(name, image=image).start()
    try:
        steps["healthy"] = instance.wait_healthy(
            site.config.healthcheck_path, site.config.healthcheck_timeout
        )
    except AssertionError as error:
        instance.stop()
        raise AssertionError(f"{error}:\n{site.show(instance.log_text())}") from None
    edge.switch_to(instance.port)
    time.sleep(overlap)
    teardown = old.terminate(draining)
    steps["overlap"], steps["draining"] = overlap, teardown.seconds
    return Redeploy(instance, teardown, steps)


#: Run by the site's python (it has psycopg): print each new peak of the connections to one
#: database, leaving out the sampler's own.
SAMPLER = """
import sys, time, psycopg
url, name = sys.argv[1], sys.argv[2]
peak = 0
with psycopg.connect(url, autocommit=True) as conn:
    while True:
        count = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()[0]
        if count > peak:
            peak = count
            print(peak, flush=True)
        time.sleep(0.05)
"""


class ConnectionPeak:
    """The most connections the site's database had while the block ran."""

    def __init__(self, site: Site, url: str):
        self.site, self.url = site, url
        self.peak = 0
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> ConnectionPeak:
        self._proc = subprocess.Popen(
            [str(self.site.python), "-c", SAMPLER, self.url, self.site.database],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        for line in self._proc.stdout:
            self.peak = max(self.peak, int(line))

    def __exit__(self, *exc) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._reader.join(timeout=5)
