"""Background tasks, run by the worker service (``manage.py worker``).

A task is queued with ``.enqueue(...)`` from anywhere in the site (a view, a signal, mail.py)
and stored in PostgreSQL; a worker picks it up, runs it and records the result. What happens to
a task whose worker stops is in the worker command's docstring.
"""

import logging

from django.conf import settings
from django.core.mail import get_connection
{%- if cookiecutter.django_version == "5.2" %}
from django_tasks import task
{%- else %}
from django.tasks import task
{%- endif %}

from .mail import message_from_dict

logger = logging.getLogger(__name__)


@task()
def deliver_mail(message):
    """Send one queued message through MAIL_DELIVERY_BACKEND; return how many were sent.

    A failure (the service refuses the message, answers 500 or not within EMAIL_TIMEOUT) is
    logged as one error line and fails the task, which keeps it in the database with its
    traceback. The line names the subject and the number of recipients, never an address.
    """
    email = message_from_dict(message)
    backend = settings.MAIL_DELIVERY_BACKEND
    try:
        connection = get_connection(backend, timeout=settings.EMAIL_TIMEOUT)
        return connection.send_messages([email])
    except Exception as error:
        summary = " ".join(str(error).split())[:300]
        logger.error(
            "mail %r to %d recipient(s) not sent through %s: %s: %s",
            email.subject,
            len(email.recipients()),
            backend,
            type(error).__name__,
            summary,
        )
        raise
