"""The user model: Django's, plus a display name and an e-mail unique in any letter case.

Django's documentation advises a custom user model from a project's first migration, because
swapping one in later means rewriting the database by hand. Add fields here (and run
``makemigrations``) as the site grows; code elsewhere refers to ``get_user_model()`` or
``settings.AUTH_USER_MODEL``, never to this class directly.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
{%- if cookiecutter.media_storage == "bucket" %}

from .validators import validate_avatar


def avatar_path(user, filename):
    """Return where an avatar is stored: ``avatars/<user id or "new">/<file name>``."""
    return f"avatars/{user.pk or 'new'}/{filename}"
{%- endif %}


class User(AbstractUser):
    """A person who can sign in; ``email`` is required and unique, ignoring case."""

    email = models.EmailField("e-mail address")
    display_name = models.CharField(
        "display name",
        max_length=150,
        blank=True,
        help_text="How the site names this person; the username when empty.",
    )
{%- if cookiecutter.media_storage == "bucket" %}
    avatar = models.ImageField(
        "avatar",
        upload_to=avatar_path,
        blank=True,
        validators=[validate_avatar],
        help_text="A JPEG, PNG, GIF or WebP image, at most 2 MB and 4096 x 4096 pixels.",
    )
{%- endif %}

    class Meta(AbstractUser.Meta):
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="users_user_email_unique_any_case",
                violation_error_message="A user with that e-mail address already exists.",
            ),
        ]

    def get_short_name(self):
        """Return the display name, or the username when there is none (the admin greets it)."""
        return self.display_name or self.username
