"""Two-factor sign-in to the admin: django-otp's admin form, with the user's device found for them.

django-otp's admin form asks for a device to check the code against, and shows that choice only
after a first post of the password. A staff user here has one authenticator app (TOTP device,
``manage.py enroll_two_factor``), so when the form names none and the user has exactly one, that
one is checked: one form, one post. The device is still the signed-in user's own.
"""

from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm


class TwoFactorLoginForm(OTPAdminAuthenticationForm):
    """The admin login form: username, password and the authenticator app's code."""

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True, for_verify=True))
            if len(devices) == 1:
                device = devices[0]
        return device
