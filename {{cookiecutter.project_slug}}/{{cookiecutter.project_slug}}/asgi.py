"""ASGI entry point. Production settings unless DJANGO_SETTINGS_MODULE says otherwise."""

import os

from django.core.asgi import get_asgi_application

from {{ cookiecutter.project_slug }}.settings.environment import exit_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{{ cookiecutter.project_slug }}.settings.production")

application = exit_on_configuration_error(get_asgi_application)
