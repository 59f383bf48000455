"""The audit trail: every admin sign-in, sign-out, lockout and change as one structured log event.

Each event is one record on the ``{{ cookiecutter.project_slug }}.audit`` logger (a JSON line in
production) with ``event``, ``user``, ``client_address`` and ``request_id`` (request_id.py), and
for changes the object and the names of the fields that changed, never their values. Django's
own ``LogEntry`` rows are left as they are: the admin writes one for every add, change and
delete, and this module reports each new row, so the log says what the admin's history says.
"""

import json
import logging

from axes.signals import user_locked_out
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from .client_address import client_address

logger = logging.getLogger("{{ cookiecutter.project_slug }}.audit")

ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}


def audit(event, request=None, **fields):
    """Log one audit event; the request (when given) supplies the address and request id."""
    if request is not None:
        fields.setdefault("client_address", client_address(request))
        fields.setdefault("request_id", getattr(request, "request_id", None))
    shown = " ".join(f"{key}={value}" for key, value in fields.items() if key != "request_id")
    logger.info("%s %s", event, shown, extra={"event": event, **fields})


def changed_field_names(change_message):
    """Return the names of the fields a LogEntry's change message lists (no values are kept)."""
    try:
        parts = json.loads(change_message or "[]")
    except ValueError:
        return []
    names = []
    for part in parts if isinstance(parts, list) else []:
        for detail in part.values() if isinstance(part, dict) else []:
            if isinstance(detail, dict):
                names.extend(str(name) for name in detail.get("fields", []))
    return names


@receiver(user_logged_in, dispatch_uid="audit-login")
def on_login(sender, request, user, **kwargs):
    audit("admin.login", request, user=user.get_username())


@receiver(user_logged_out, dispatch_uid="audit-logout")
def on_logout(sender, request, user, **kwargs):
    audit("admin.logout", request, user=user.get_username() if user else None)


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password in ``credentials``; only the username is kept.
    audit("admin.login_failed", request, user=credentials.get("username"))


@receiver(user_locked_out, dispatch_uid="audit-locked-out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    audit("admin.locked_out", request, user=username, client_address=ip_address)


@receiver(post_save, sender=LogEntry, dispatch_uid="audit-log-entry")
def on_admin_change(sender, instance, created, **kwargs):
    if not created:
        return
    from .request_id import request_address, request_id

    audit(
        ACTIONS.get(instance.action_flag, "admin.action"),
        user=instance.user.get_username() if instance.user_id else None,
        client_address=request_address.get(),
        request_id=request_id.get(),
        object_type=instance.content_type.model if instance.content_type_id else None,
        object_id=instance.object_id,
        object=instance.object_repr,
        fields=changed_field_names(instance.change_message),
    )
