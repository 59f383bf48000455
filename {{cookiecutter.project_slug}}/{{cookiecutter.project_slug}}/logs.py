"""Logging: one JSON object per line in production, readable text elsewhere.

Railway's log explorer (Railway docs: observability/logs, "Structured logs") parses a line that
is one JSON object with ``message`` and ``level`` (debug, info, warn, error) and makes its other
keys searchable (``@request_id:...``). It shows everything written to stderr as an error, so
every line goes to stdout and the level is in the object. python-json-logger writes the JSON.
"""

from pythonjsonlogger.json import JsonFormatter

#: Python's level names as Railway spells them.
RAILWAY_LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warn", "ERROR": "error"}


class RailwayJsonFormatter(JsonFormatter):
    """Write a record as one JSON line with ``message``, ``level``, ``logger`` and its extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("timestamp", True)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record, record, message_dict):
        """Add the level in Railway's words, the logger's name and the request's context."""
        super().add_fields(log_record, record, message_dict)
        log_record["level"] = RAILWAY_LEVELS.get(record.levelname, "error")
        log_record["logger"] = record.name
        for key in ("request_id", "client_address"):
            if log_record.get(key) is None:
                log_record.pop(key, None)


def logging_config(*, json_lines, level="INFO"):
    """Return Django's LOGGING: JSON lines (production) or plain text, always on stdout."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_context": {"()": "{{ cookiecutter.project_slug }}.request_id.RequestContextFilter"},
        },
        "formatters": {
            "plain": {"format": "{levelname} {name}: {message}", "style": "{"},
            "json": {"()": "{{ cookiecutter.project_slug }}.logs.RailwayJsonFormatter"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json" if json_lines else "plain",
                "filters": ["request_context"],
            },
            # Attached to the "django" logger only where e-mail really leaves (production, SMTP).
            "mail_admins": {"level": "ERROR", "class": "django.utils.log.AdminEmailHandler"},
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # Django's own configuration also mails every error to ADMINS; with the console
            # e-mail backend that writes a full report (hundreds of lines) into the log for each
            # 500, and for each 503 of /health/. Errors reach the log once, through the root.
            "django": {"handlers": [], "level": "INFO"},
            "django.db.backends": {"level": "WARNING"},
            # axes logs each attempt itself (with the username); the audit trail says the same
            # once, as one event (audit.py).
            "axes": {"level": "ERROR"},
            # The task queue's own records (a task started, finished, failed) go to the log
            # only: mailing a failed task's error would queue another task, which could fail too.
            "{% if cookiecutter.django_version == "5.2" %}django_tasks{% else %}django.tasks{% endif %}": {
                "handlers": ["stdout"],
                "level": "INFO",
                "propagate": False,
            },
            "django_tasks_db": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }
