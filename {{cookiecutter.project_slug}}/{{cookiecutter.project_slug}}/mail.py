"""Mail leaves the request: the e-mail backend that queues each message as a task.

``EMAIL_BACKEND`` points here, so everything Django mails (password resets, error reports to
ADMINS, ``send_mail``) is written to the task queue in the database, which takes milliseconds
whatever the mail service is doing. The worker service runs ``tasks.deliver_mail``, which sends
it through ``MAIL_DELIVERY_BACKEND`` (the log, SMTP or an e-mail API).

A task's arguments are stored as JSON, so a message travels as a dict of its fields.
"""

import base64
import logging

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)


def message_to_dict(message):
    """Return an EmailMessage as a dict of JSON values (attachments base64-encoded)."""
    attachments = []
    for attachment in message.attachments:
        filename, content, mimetype = attachment
        if content is None:
            raise ValueError("attachments given as MIME parts cannot be queued")
        data = content.encode() if isinstance(content, str) else bytes(content)
        attachments.append([filename, base64.b64encode(data).decode("ascii"), mimetype])
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [
            [str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
        "attachments": attachments,
    }


def message_from_dict(data):
    """Return the EmailMultiAlternatives that ``message_to_dict`` described."""
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    for filename, encoded, mimetype in data["attachments"]:
        message.attach(filename, base64.b64decode(encoded), mimetype)
    return message


class TaskEmailBackend(BaseEmailBackend):
    """Queue each message as a ``deliver_mail`` task instead of sending it."""

    def send_messages(self, email_messages):
        """Return how many messages were queued; with fail_silently, a failure queues none."""
        from .tasks import deliver_mail

        queued = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                deliver_mail.enqueue(message_to_dict(message))
            except Exception:
                if not self.fail_silently:
                    raise
                logger.exception("mail %r could not be queued", str(message.subject))
            else:
                queued += 1
        return queued
