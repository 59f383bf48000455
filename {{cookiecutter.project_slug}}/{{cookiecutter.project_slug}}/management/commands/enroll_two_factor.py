"""``manage.py enroll_two_factor <username>``: give a staff user a TOTP device, shown once.

The first superuser cannot sign in to the admin without a device, and cannot enroll one in an
admin it cannot enter: this command does it from a shell in the container (``railway ssh``).
It creates a confirmed TOTP device (django-otp) and prints, to this terminal only, a QR code to
scan with an authenticator app, the otpauth:// link and the secret in base32 for typing in by
hand. Nothing of it is logged or stored anywhere else, and it is never printed again: a user
who already has a device is refused unless ``--replace`` is given (which deletes the old ones).
"""

import base64
import io

import segno
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Enroll a TOTP device for a staff user; print its QR code and secret once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--replace", action="store_true", help="delete the user's existing TOTP devices first"
        )
        parser.add_argument(
            "--no-qr", action="store_true", help="print only the link and the secret"
        )

    def handle(self, *args, username, replace, no_qr, **options):
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(
                f"no user {username!r}: create one first with manage.py createsuperuser"
            ) from None
        if not user.is_staff:
            raise CommandError(f"{username!r} is not staff: only staff sign in to the admin")
        with transaction.atomic():
            existing = TOTPDevice.objects.devices_for_user(user, confirmed=None)
            if existing.exists() and not replace:
                raise CommandError(
                    f"{username!r} already has a TOTP device; its secret is not shown again. "
                    "Run with --replace to delete it and enroll a new one."
                )
            existing.delete()
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        secret = base64.b32encode(device.bin_key).decode()
        out = self.stdout
        out.write(f"TOTP device enrolled for {username}. Shown once, here only:")
        if not no_qr:
            picture = io.StringIO()
            segno.make(device.config_url, error="m").terminal(out=picture, compact=True)
            out.write(picture.getvalue(), ending="")
        out.write(f"link:   {device.config_url}")
        out.write(f"secret: {secret}")
        out.write("Scan the code (or type the secret) in an authenticator app, then sign in.")
