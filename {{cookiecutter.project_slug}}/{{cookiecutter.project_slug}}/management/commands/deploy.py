"""``manage.py deploy``: the pre-deploy step Railway runs once per deployment.

It runs between the build and the start of the new release, in a container of its own. Each
step is shown with its outcome and time, and a last line sums the run up; the first failure
stops the command with a non-zero exit, and Railway then keeps the previous release serving.
The production settings have already refused a missing or weak SECRET_KEY and a bad
DATABASE_URL before the command starts, so the steps check only what nothing else does:

- deployment checks: ``check --deploy --fail-level WARNING``, Django's warnings about this
  configuration (HSTS, cookies, ...), which a start-up does not run;
{%- if cookiecutter.media_storage == "bucket" %}
- bucket: a HEAD on the Storage Bucket that keeps uploaded files, so wrong credentials or a
  bucket that does not answer stop the deploy instead of the first upload;
{%- endif %}
- migration plan: the first query to the database, and the migrations about to be applied,
  listed in the deploy log before anything changes;
- migrate: applies them (skipped with ``--dry-run``);
- mail: where the worker sends mail; "skipped" with "mail is not configured" and what to set
  while it only writes mail to the log (a deploy without a mail service still goes live).

``--json`` prints one JSON document on stdout instead, for CI and scripts::

    {"ok": true, "dry_run": false, "seconds": 1.234, "failed_step": null,
     "steps": [{"name": "deployment checks", "outcome": "ok", "seconds": 0.41,
                "detail": "no issues"}, ...]}

``outcome`` is one of ok, skipped, failed or "not run" (steps after a failure). The report
never holds a variable's value: secrets that turn up in an error message are masked.
"""

import contextlib
import io
import json
import logging
import re
import sys
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, SystemCheckError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

{% if cookiecutter.media_storage == "bucket" -%}
from ...media import check_bucket
{% endif -%}
from ...settings.environment import SECRET_VARIABLES, env_str

CHECK_ID = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)*\.[CEWI]\d{3}\b")


class StepFailed(Exception):
    """A step could not complete; the message says why in one line."""


class StepSkipped(Exception):
    """A step chose not to run; the message says why."""


@dataclass
class StepResult:
    name: str
    outcome: str  # "ok", "skipped", "failed" or "not run"
    seconds: float
    detail: str


def secret_values():
    """Return the values to mask: each secret variable, and the password inside URL ones."""
    values = []
    for name in SECRET_VARIABLES:
        value = env_str(name)
        if not value:
            continue
        values.append(value)
        with contextlib.suppress(ValueError):
            password = urlsplit(value).password
            if password:
                values.append(password)
    return sorted(values, key=len, reverse=True)


def redact(text):
    """Return ``text`` on one line, with every secret value replaced by ***."""
    text = " ".join(str(text).split())
    for value in secret_values():
        text = text.replace(value, "***")
    return text


@contextlib.contextmanager
def logs_to_stderr():
    """Point the log handlers that write to stdout at stderr for a while: --json owns stdout."""
    moved = []
    for logger in [logging.getLogger(), *logging.root.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream in (
                sys.stdout,
                sys.__stdout__,
            ):
                moved.append((handler, handler.setStream(sys.stderr)))
    try:
        yield
    finally:
        for handler, stream in moved:
            handler.setStream(stream)


class Command(BaseCommand):
    help = "Pre-deploy step: Django's deployment checks, then show and apply the migrations."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and show the migration plan, but apply nothing.",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print one machine-readable JSON report on stdout (for CI) instead of text.",
        )

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        self.as_json = options["json"]
        # In --json mode the steps' own output (check, migrate) is kept off stdout.
        self.step_out = io.StringIO() if self.as_json else self.stdout
        self.step_err = io.StringIO() if self.as_json else self.stderr
        steps = [
            ("deployment checks", self.check_deploy),
{%- if cookiecutter.media_storage == "bucket" %}
            ("bucket", self.check_bucket),
{%- endif %}
            ("migration plan", self.show_plan),
            ("migrate", self.skip_migrate if dry_run else self.migrate),
            ("mail", self.check_mail),
        ]
        started = time.monotonic()
        with logs_to_stderr() if self.as_json else contextlib.nullcontext():
            results = self.run_steps(steps, dry_run)
        total = time.monotonic() - started
        failed = next((r for r in results if r.outcome == "failed"), None)
        if failed is None:
            verdict = "dry run passed, nothing applied" if dry_run else "ready to start"
            summary = f"deploy: {verdict}; {len(results)} steps in {total:.2f} s"
        else:
            number = results.index(failed) + 1
            summary = (
                f"deploy stopped at '{failed.name}' (step {number}/{len(results)}) after"
                f" {total:.2f} s: {failed.detail}"
            )
        if self.as_json:
            self.stdout.write(self.report(results, dry_run, total, failed))
        elif failed is None:
            self.stdout.write(self.style.SUCCESS(summary))
        if failed is not None:
            raise CommandError(summary)

    def run_steps(self, steps, dry_run):
        """Run the steps in order until one fails; return a result for every step."""
        results = []
        count = len(steps)
        for number, (name, step) in enumerate(steps, start=1):
            label = f"[{number}/{count}] {name}"
            if any(result.outcome == "failed" for result in results):
                results.append(StepResult(name, "not run", 0.0, "an earlier step failed"))
                self.say(f"{label}: not run")
                continue
            self.say(f"{label} ...")
            step_started = time.monotonic()
            try:
                detail, outcome = step(dry_run=dry_run), "ok"
            except StepSkipped as reason:
                detail, outcome = str(reason), "skipped"
            except StepFailed as error:
                detail, outcome = str(error), "failed"
            except Exception as error:  # anything unforeseen still ends as a report
                detail, outcome = f"{type(error).__name__}: {error}", "failed"
            seconds = time.monotonic() - step_started
            result = StepResult(name, outcome, round(seconds, 3), redact(detail))
            results.append(result)
            if outcome == "failed":
                self.say(f"{label}: FAILED ({seconds:.2f} s): {result.detail}", error=True)
            elif outcome == "skipped":
                self.say(f"{label}: skipped ({result.detail}) ({seconds:.2f} s)")
            else:
                self.say(f"{label}: {result.detail} ({seconds:.2f} s)", success=True)
        return results

    def say(self, line, success=False, error=False):
        """Write a progress line, in text mode only."""
        if self.as_json:
            return
        if error:
            self.stderr.write(self.style.ERROR(line))
        else:
            self.stdout.write(self.style.SUCCESS(line) if success else line)

    @staticmethod
    def report(results, dry_run, total, failed):
        """Return the --json report of a run."""
        return json.dumps(
            {
                "ok": failed is None,
                "dry_run": dry_run,
                "seconds": round(total, 3),
                "failed_step": failed.name if failed else None,
                "steps": [asdict(result) for result in results],
            },
            indent=2,
        )

    # ---------------------------------------------------------------- the steps

    def check_deploy(self, **options):
        """Run Django's deployment checks; fail on any warning."""
        try:
            call_command(
                "check",
                deploy=True,
                fail_level="WARNING",
                stdout=self.step_out,
                stderr=self.step_err,
            )
        except SystemCheckError as error:
            if not self.as_json:
                self.stderr.write(str(error))
                raise StepFailed(
                    "Django's deployment checks reported the issues listed above"
                ) from None
            found = sorted(set(CHECK_ID.findall(str(error)))) or ["see manage.py check --deploy"]
            raise StepFailed(f"Django's deployment checks reported: {', '.join(found)}") from None
        return "no issues"

{%- if cookiecutter.media_storage == "bucket" %}

    def check_bucket(self, **options):
        """Check that the bucket answers with these credentials (a HEAD on the bucket)."""
        if not getattr(settings, "BUCKET", None):
            raise StepSkipped("no bucket configured (uploads go to media/)")
        try:
            check_bucket()
        except Exception as error:
            raise StepFailed(
                f"the bucket {settings.BUCKET['BUCKET']!r} at {settings.BUCKET['ENDPOINT']}"
                f" did not answer: {type(error).__name__}"
            ) from None
        return f"{settings.BUCKET['BUCKET']!r} answers"
{%- endif %}

    def show_plan(self, **options):
        """List the migrations to apply, reading their state from the database."""
        try:
            executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except Exception as error:
            raise StepFailed(f"cannot read the migration state: {type(error).__name__}") from None
        for migration, backwards in plan:
            direction = "unapply" if backwards else "apply"
            self.step_out.write(f"    {direction} {migration.app_label}.{migration.name}")
        return f"{len(plan)} to apply" if plan else "nothing to apply"

    def migrate(self, **options):
        """Apply the migrations."""
        try:
            call_command("migrate", interactive=False, verbosity=1, stdout=self.step_out)
        except Exception as error:
            raise StepFailed(f"migrate failed: {type(error).__name__}: {error}") from None
        return "done"

    def check_mail(self, **options):
        """Say how the worker sends mail; skip, saying so, while mail only goes to the log."""
        backend = settings.MAIL_DELIVERY_BACKEND
        if backend == "django.core.mail.backends.console.EmailBackend":
            raise StepSkipped(
                f"mail is not configured: mail is written to the log; {settings.MAIL_SETUP_HINT}"
            )
        return f"mail is sent through {backend}"

    def skip_migrate(self, **options):
        raise StepSkipped("--dry-run")
