"""Migrations: every one can be reversed (a release can be rolled back with ``migrate <app>
<name>``), and none may break the release that still runs while the next one migrates.

The one exception to reversing is a dependency's history older than a migration its authors
made irreversible (django-tasks-db has data migrations that cannot run backwards): such an app is
reversed down to that migration, which a site never needs to go below.
"""

import io

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TestCase, TransactionTestCase, override_settings
from django_migration_linter import MigrationLinter

APP = "{{ cookiecutter.project_slug }}"


def rollback_floor(loader, app_label):
    """Return the name of the app's newest irreversible migration, or None when all reverse."""
    floor = None
    for leaf in loader.graph.leaf_nodes(app_label):
        for app, name in loader.graph.forwards_plan(leaf):
            migration = loader.graph.nodes[(app, name)]
            if app == app_label and any(not op.reversible for op in migration.operations):
                floor = name
    return floor


class MigrationTests(TransactionTestCase):
    def test_every_migration_reverses_and_reapplies(self):
        executor = MigrationExecutor(connection)
        apps = sorted({app_label for app_label, _ in executor.loader.graph.leaf_nodes()})
        floors = {app: rollback_floor(executor.loader, app) for app in apps}
        executor.migrate([(app, floors[app]) for app in apps])

        executor.loader.build_graph()
        kept = {
            key
            for app, floor in floors.items()
            if floor is not None
            for key in executor.loader.graph.forwards_plan((app, floor))
        }
        self.assertEqual(set(executor.loader.applied_migrations), kept)

        call_command("migrate", verbosity=0)
        executor.loader.build_graph()
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        self.assertEqual(plan, [])

    def test_models_and_migrations_agree(self):
        call_command("makemigrations", check=True, dry_run=True, verbosity=0)


@override_settings(MIGRATION_MODULES={APP: "tests.migration_samples"})
class MigrationSafetyTests(TestCase):
    """django-migration-linter (CI: ``manage.py lintmigrations``) refuses a column drop."""

    def lint(self):
        linter = MigrationLinter(include_apps=[APP], no_cache=True, no_output=True)
        linter.lint_all_migrations(app_label=APP)
        return linter

    def test_a_column_drop_is_refused(self):
        linter = self.lint()
        self.assertTrue(linter.has_errors)
        self.assertEqual(linter.nb_erroneous, 1)

    def test_adding_a_model_and_a_nullable_column_passes(self):
        linter = self.lint()
        self.assertEqual(linter.nb_total, 3)
        self.assertEqual(linter.nb_valid, 2)

    def test_the_command_fails_on_the_drop(self):
        with self.assertRaises(SystemExit) as stopped:
            call_command(
                "lintmigrations",
                APP,
                no_cache=True,
                stdout=io.StringIO(),
                stderr=io.StringIO(),
            )
        self.assertEqual(stopped.exception.code, 1)
