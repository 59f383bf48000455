"""Every migration can be reversed, so a release can be rolled back with ``migrate <app> <name>``."""

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase


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
