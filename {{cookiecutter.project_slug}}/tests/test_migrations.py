"""Migrations: every one can be reversed (a release can be rolled back with ``migrate <app>
<name>``), and none may break the release that still runs while the next one migrates.
"""

import io

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TestCase, TransactionTestCase, override_settings
from django_migration_linter import MigrationLinter

APP = "{{ cookiecutter.project_slug }}"


class MigrationTests(TransactionTestCase):
    def test_every_migration_reverses_and_reapplies(self):
        executor = MigrationExecutor(connection)
        apps = sorted({app_label for app_label, _ in executor.loader.graph.leaf_nodes()})
        executor.migrate([(app_label, None) for app_label in apps])

        executor.loader.build_graph()
        self.assertEqual(executor.loader.applied_migrations, {})

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
        linter.lint_all_migrations()
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
