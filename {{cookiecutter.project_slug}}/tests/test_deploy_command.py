"""``manage.py deploy``, the pre-deploy step, run as Railway runs it: its own process."""

import unittest

from django.db import connection
from django.test import TransactionTestCase

from .helpers import PRODUCTION_SETTINGS, production_env, run_python, shared_database_url

DEPLOY = ["manage.py", "deploy", f"--settings={PRODUCTION_SETTINGS}"]


@unittest.skipUnless(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL")
class DeployCommandTests(TransactionTestCase):
    def deploy(self, *args, **changes):
        env = production_env(**{"DATABASE_URL": shared_database_url(), **changes})
        return run_python([*DEPLOY, *args], env, timeout=120)

    def test_runs_every_step_and_succeeds(self):
        result = self.deploy()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        for step in (
            "required variables",
            "deployment checks",
            "migration plan",
            "migrate",
            "database answers",
        ):
            self.assertIn(step, result.stdout)
        self.assertIn("[5/5] database answers: ok", result.stdout)
        self.assertIn("ready to start", result.stdout)

    def test_dry_run_applies_nothing(self):
        result = self.deploy("--dry-run")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("skipped (--dry-run)", result.stdout)
        self.assertIn("dry run passed", result.stdout)

    def test_deployment_warnings_stop_the_deploy(self):
        result = self.deploy(SECURE_HSTS_PRELOAD="false")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("security.W021", result.stderr)
        self.assertIn("deploy stopped at 'deployment checks'", result.stderr)

    def test_unreachable_database_fails_the_deploy(self):
        result = self.deploy(DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("deploy stopped at", result.stderr)
        self.assertNotIn("Traceback", result.stderr)
