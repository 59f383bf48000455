"""``manage.py deploy``: the pre-deploy step Railway runs once per deployment.

It runs between the build and the start of the new release, in a container of its own. Each
step is printed as it runs; the first failure stops the command with a non-zero exit, and
Railway then keeps the previous release serving.

Steps: required variables, ``check --deploy --fail-level WARNING``, the migration plan,
``migrate`` (skipped with ``--dry-run``), and a last query to confirm the database answers with
every migration applied.
"""

import os
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, SystemCheckError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

REQUIRED_VARIABLES = ("SECRET_KEY", "DATABASE_URL")


class StepFailed(Exception):
    """A step could not complete; the message says why in one line."""


class Command(BaseCommand):
    help = (
        "Pre-deploy step: check the configuration, show and apply migrations, verify the database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and show the migration plan, but apply nothing.",
        )

    def handle(self, *args, dry_run=False, **options):
        steps = [
            ("required variables", self.check_variables),
            ("deployment checks", self.check_deploy),
            ("migration plan", self.show_plan),
            ("migrate", self.skip_migrate if dry_run else self.migrate),
            ("database answers", self.verify_database),
        ]
        started = time.monotonic()
        for number, (title, step) in enumerate(steps, start=1):
            self.stdout.write(f"[{number}/{len(steps)}] {title} ...")
            step_started = time.monotonic()
            try:
                outcome = step(dry_run=dry_run)
            except StepFailed as error:
                self.stderr.write(self.style.ERROR(f"[{number}/{len(steps)}] {title}: FAILED"))
                raise CommandError(f"deploy stopped at '{title}': {error}") from None
            elapsed = time.monotonic() - step_started
            self.stdout.write(
                self.style.SUCCESS(f"[{number}/{len(steps)}] {title}: {outcome} ({elapsed:.2f} s)")
            )
        total = time.monotonic() - started
        verdict = "dry run passed, nothing applied" if dry_run else "ready to start"
        self.stdout.write(self.style.SUCCESS(f"deploy: {verdict} in {total:.2f} s"))

    def check_variables(self, **options):
        missing = [name for name in REQUIRED_VARIABLES if not os.environ.get(name, "").strip()]
        if missing:
            raise StepFailed(f"not set: {', '.join(missing)} (set them in the service's variables)")
        return "ok"

    def check_deploy(self, **options):
        try:
            call_command("check", deploy=True, fail_level="WARNING", stdout=self.stdout)
        except SystemCheckError as error:
            self.stderr.write(str(error))
            raise StepFailed(
                "Django's deployment checks reported the issues listed above"
            ) from None
        return "no issues"

    def show_plan(self, **options):
        try:
            executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except Exception as error:
            raise StepFailed(f"cannot read the migration state: {type(error).__name__}") from None
        for migration, backwards in plan:
            direction = "unapply" if backwards else "apply"
            self.stdout.write(f"    {direction} {migration.app_label}.{migration.name}")
        return f"{len(plan)} to apply" if plan else "nothing to apply"

    def migrate(self, **options):
        try:
            call_command("migrate", interactive=False, verbosity=1, stdout=self.stdout)
        except Exception as error:
            raise StepFailed(f"migrate failed: {type(error).__name__}: {error}") from None
        return "done"

    def skip_migrate(self, **options):
        return "skipped (--dry-run)"

    def verify_database(self, dry_run=False, **options):
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except Exception as error:
            raise StepFailed(f"the database did not answer: {type(error).__name__}") from None
        if pending and not dry_run:
            raise StepFailed(f"{len(pending)} migrations are still unapplied")
        return "ok"
