"""``manage.py worker``: the task worker service's start command.

It runs django-tasks-db's worker (``db_worker``) with the site's settings, after two steps of
its own:

1. it waits (up to WORKER_MIGRATION_WAIT seconds) until the database has every migration: the
   web service's pre-deploy step applies them, and a worker that started first would fail on a
   missing table;
2. it puts back in the queue every task still RUNNING more than TASK_RUNNING_TIMEOUT seconds
   after it started. django-tasks-db marks a task RUNNING when a worker takes it and never
   looks at it again, so the task of a worker that was killed (SIGKILL, out of memory) would
   stay RUNNING for ever; Railway restarts a crashed worker, and the restart runs it again.

What a stop does to the task in hand is django-tasks-db's behaviour: on SIGTERM (or SIGINT) the
worker finishes the task, records its result and exits 0, taking no new one; a second SIGTERM
while the task runs ends it at once, and the task is recorded as FAILED. Railway sends SIGTERM
and, after the service's draining time (RAILWAY_DEPLOYMENT_DRAINING_SECONDS, default 0), SIGKILL.
"""

import time
from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_tasks_db.models import DBTaskResult


def pending_migrations():
    """Return how many migrations the database still lacks."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def requeue_abandoned(older_than):
    """Return the number of RUNNING tasks started before ``older_than`` ago, now READY again."""
    cutoff = timezone.now() - older_than
    return DBTaskResult.objects.filter(status="RUNNING", started_at__lt=cutoff).update(
        status="READY", started_at=None
    )


class Command(BaseCommand):
    help = (
        "Run the task worker: wait for the migrations, requeue abandoned tasks, then run tasks"
        " until SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run the tasks already queued, then exit (instead of waiting for more).",
        )

    def handle(self, *args, **options):
        self.wait_for_migrations(settings.WORKER_MIGRATION_WAIT)
        requeued = requeue_abandoned(timedelta(seconds=settings.TASK_RUNNING_TIMEOUT))
        if requeued:
            self.stdout.write(
                f"worker: {requeued} task(s) RUNNING for more than"
                f" {settings.TASK_RUNNING_TIMEOUT} s put back in the queue"
            )
        call_command(
            "db_worker",
            interval=settings.WORKER_INTERVAL,
            batch=options["batch"],
            reload=False,
            startup_delay=False,
            stdout=self.stdout,
            stderr=self.stderr,
        )

    def wait_for_migrations(self, seconds):
        """Return once no migration is pending; fail after ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            pending = pending_migrations()
            if not pending:
                return
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"{pending} migration(s) still not applied after {seconds} s:"
                    " the web service's pre-deploy step (manage.py deploy) applies them"
                )
            self.stdout.write(f"worker: waiting for {pending} migration(s) to be applied")
            time.sleep(2)
