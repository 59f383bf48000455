"""The site's own app: management commands, templates, static files and the audit trail."""

from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}"

    def ready(self):
        """Connect the audit trail's signal receivers."""
        from . import audit  # noqa: F401
