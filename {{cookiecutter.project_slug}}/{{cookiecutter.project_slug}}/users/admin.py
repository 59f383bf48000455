"""The users in the admin: Django's UserAdmin, with the display name{% if cookiecutter.media_storage == "bucket" %}, the avatar{% endif %} and the e-mail on the add form."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .models import User


class UserCreationForm(AdminUserCreationForm):
    """The add form: username, e-mail and password (the e-mail is required and unique)."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class UserEditForm(UserChangeForm):
    """The change form, bound to this site's user model."""

    class Meta(UserChangeForm.Meta):
        model = User


PERSONAL_FIELDS = (
    "display_name",
    "first_name",
    "last_name",
    "email",
{%- if cookiecutter.media_storage == "bucket" %}
    "avatar",
{%- endif %}
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Search by name or e-mail; filter by role, state and when people joined."""

    form = UserEditForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": PERSONAL_FIELDS}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("username", "email", "display_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "date_joined", "groups")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    ordering = ("username",)
