"""``manage.py deploy``, the pre-deploy step, run as Railway runs it: its own process."""

import json
import re
import secrets
import unittest

from django.db import connection
from django.test import TransactionTestCase

from .helpers import (
    PRODUCTION_SETTINGS,
    production_env,
    run_python,
{%- if cookiecutter.media_storage == "bucket" %}
    scratch_bucket,
{%- endif %}
    shared_database_url,
)
{%- set steps = 5 if cookiecutter.media_storage == "bucket" else 4 %}

DEPLOY = ["manage.py", "deploy", f"--settings={PRODUCTION_SETTINGS}"]
STEPS = [
    "deployment checks",
{%- if cookiecutter.media_storage == "bucket" %}
    "bucket",
{%- endif %}
    "migration plan",
    "migrate",
    "mail",
]
# "[1/{{ steps }}] deployment checks: no issues (0.41 s)"
STEP_LINE = re.compile(r"^\[(\d)/{{ steps }}\] (.+?): (.+) \((\d+\.\d\d) s\)$", re.MULTILINE)


@unittest.skipUnless(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL")
class DeployCommandTests(TransactionTestCase):
    def setUp(self):
        self.secret_key = secrets.token_urlsafe(50)

    def deploy(self, *args, **changes):
        env = production_env(
            **{"DATABASE_URL": shared_database_url(), "SECRET_KEY": self.secret_key, **changes}
        )
        return run_python([*DEPLOY, *args], env, timeout=120)

    def deploy_json(self, *args, **changes):
        """Run with --json; return (exit code, the parsed report, stderr)."""
        result = self.deploy("--json", *args, **changes)
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError:
            self.fail(f"stdout is not one JSON document:\n{result.stdout}\n{result.stderr}")
        return result.returncode, report, result.stderr

    def assertNoSecrets(self, *texts):
        for text in texts:
            self.assertNotIn(self.secret_key, text)

    # ------------------------------------------------------------------ text

    def test_runs_every_step_and_succeeds(self):
        result = self.deploy()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        lines = STEP_LINE.findall(result.stdout)
        self.assertEqual([name for _, name, _, _ in lines], STEPS)
        self.assertEqual([int(number) for number, _, _, _ in lines], list(range(1, len(STEPS) + 1)))
        self.assertIn("[{{ steps - 1 }}/{{ steps }}] migrate: done (", result.stdout)
        # No mail service configured: the deploy goes on, and says so.
        self.assertIn("[{{ steps }}/{{ steps }}] mail: skipped (mail is not configured: ", result.stdout)
        last_line = result.stdout.strip().splitlines()[-1]
        self.assertRegex(last_line, r"^deploy: ready to start; {{ steps }} steps in \d+\.\d\d s$")
        self.assertNoSecrets(result.stdout, result.stderr)

    def test_dry_run_applies_nothing(self):
        result = self.deploy("--dry-run")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertRegex(result.stdout, r"\[{{ steps - 1 }}/{{ steps }}\] migrate: skipped \(--dry-run\) \(\d+\.\d\d s\)")
        self.assertIn("deploy: dry run passed, nothing applied", result.stdout)

    def test_deployment_warnings_stop_the_deploy(self):
        result = self.deploy(SECURE_HSTS_PRELOAD="false")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("security.W021", result.stderr)
        self.assertRegex(result.stderr, r"\[1/{{ steps }}\] deployment checks: FAILED \(\d+\.\d\d s\)")
        # The steps after the failure are shown as not run, and one line sums it up.
        for number, name in enumerate(STEPS[1:], start=2):
            self.assertIn(f"[{number}/{{ steps }}] {name}: not run", result.stdout)
        self.assertRegex(
            result.stderr,
            r"deploy stopped at 'deployment checks' \(step 1/{{ steps }}\) after \d+\.\d\d s",
        )
        self.assertNotIn("ready to start", result.stdout)

    def test_unreachable_database_fails_the_deploy(self):
        result = self.deploy(DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("deploy stopped at", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    # ------------------------------------------------------------------ --json

    def test_json_report_of_a_good_deploy(self):
        code, report, stderr = self.deploy_json()
        self.assertEqual(code, 0, stderr)
        self.assertIs(report["ok"], True)
        self.assertIs(report["dry_run"], False)
        self.assertIsNone(report["failed_step"])
        self.assertEqual([step["name"] for step in report["steps"]], STEPS)
        for step in report["steps"]:
            self.assertEqual(set(step), {"name", "outcome", "seconds", "detail"})
            expected = "skipped" if step["name"] == "mail" else "ok"
            self.assertEqual(step["outcome"], expected, step)
            self.assertIsInstance(step["seconds"], float)
            self.assertGreaterEqual(step["seconds"], 0)
            self.assertIsInstance(step["detail"], str)
        self.assertEqual(report["steps"][0]["detail"], "no issues")
        self.assertGreaterEqual(
            report["seconds"], sum(s["seconds"] for s in report["steps"]) - 0.01
        )

    def test_json_dry_run_marks_migrate_skipped(self):
        code, report, stderr = self.deploy_json("--dry-run")
        self.assertEqual(code, 0, stderr)
        self.assertIs(report["dry_run"], True)
        outcomes = {step["name"]: step["outcome"] for step in report["steps"]}
        self.assertEqual(outcomes["migrate"], "skipped")
        self.assertEqual(outcomes["migration plan"], "ok")

    def test_json_report_of_a_failed_deploy(self):
        code, report, stderr = self.deploy_json(SECURE_HSTS_PRELOAD="false")
        self.assertNotEqual(code, 0)
        self.assertIs(report["ok"], False)
        self.assertEqual(report["failed_step"], "deployment checks")
        outcomes = [step["outcome"] for step in report["steps"]]
        self.assertEqual(outcomes, ["failed"] + ["not run"] * (len(STEPS) - 1))
        self.assertIn("security.W021", report["steps"][0]["detail"])
        self.assertIn("deploy stopped at 'deployment checks'", stderr)

{%- if cookiecutter.media_storage == "bucket" %}

    def test_bucket_step_heads_the_bucket(self):
        code, report, stderr = self.deploy_json("--dry-run")
        self.assertEqual(code, 0, stderr)
        [step] = [step for step in report["steps"] if step["name"] == "bucket"]
        self.assertEqual(step["outcome"], "ok")
        self.assertEqual(step["detail"], f"{scratch_bucket()['BUCKET']!r} answers")

    def test_unreachable_bucket_stops_the_deploy_before_migrating(self):
        code, report, stderr = self.deploy_json(ENDPOINT="http://127.0.0.1:1", BUCKET_TIMEOUT="1")
        self.assertNotEqual(code, 0)
        self.assertEqual(report["failed_step"], "bucket")
        [step] = [step for step in report["steps"] if step["name"] == "bucket"]
        self.assertIn("did not answer", step["detail"])
        self.assertEqual(report["steps"][-1]["outcome"], "not run")
        self.assertNotIn(scratch_bucket()["SECRET_ACCESS_KEY"], json.dumps(report) + stderr)
{%- endif %}

    def test_json_report_shows_no_secrets(self):
        password = secrets.token_urlsafe(16)
        url = f"postgres://postgres:{password}@127.0.0.1:1/unreachable"
        result = self.deploy("--json", DATABASE_URL=url)
        self.assertNotEqual(result.returncode, 0)
        report = json.loads(result.stdout)
        self.assertIs(report["ok"], False)
        for text in (result.stdout, result.stderr):
            self.assertNotIn(password, text)
            self.assertNotIn(self.secret_key, text)
