from django.apps import AppConfig


class UsersConfig(AppConfig):
    """The users app: ``AUTH_USER_MODEL = "users.User"``."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "{{ cookiecutter.project_slug }}.users"
    label = "users"
    verbose_name = "Accounts"
