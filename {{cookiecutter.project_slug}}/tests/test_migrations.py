"""Every migration can be reversed, so a release can be rolled back with ``migrate <app> <name>``.

The one exception is a dependency's history older than a migration its authors made
irreversible (django-tasks-db has data migrations that cannot run backwards): such an app is
reversed down to that migration, which a site never needs to go below.
"""

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase


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
