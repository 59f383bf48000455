"""``manage.py housekeeping``: delete what piles up, then exit (Railway's daily cron service).

Expired sessions (Django's ``clearsessions``), sign-in attempts older than the cool-off (their
lockouts are over), and django-axes' access and failure logs older than AXES_LOG_RETENTION_DAYS.
Each run prints one line per table with the number of rows deleted and closes its database
connections, so Railway's cron sees the process end (a job still running skips the next run).
"""

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections
from django.utils import timezone


class Command(BaseCommand):
    help = "Delete expired sessions and old sign-in attempts and logs, then exit."

    def handle(self, *args, **options):
        try:
            call_command("clearsessions")
            self.stdout.write("sessions: expired sessions deleted")
            now = timezone.now()
            over = now - settings.AXES_COOLOFF_TIME
            deleted, _ = AccessAttempt.objects.filter(attempt_time__lt=over).delete()
            self.stdout.write(f"sign-in attempts: {deleted} older than the cool-off deleted")
            kept = now - timedelta(days=settings.AXES_LOG_RETENTION_DAYS)
            logs, _ = AccessLog.objects.filter(attempt_time__lt=kept).delete()
            failures, _ = AccessFailureLog.objects.filter(attempt_time__lt=kept).delete()
            self.stdout.write(
                f"access logs: {logs + failures} older than "
                f"{settings.AXES_LOG_RETENTION_DAYS} days deleted"
            )
        finally:
            # Railway's cron waits for the process to end; leave no connection open. (Inside a
            # transaction, as in the site's tests, the caller owns the connection.)
            if not any(connection.in_atomic_block for connection in connections.all()):
                connections.close_all()
