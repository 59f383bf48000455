"""WSGI entry point for gunicorn. Production settings unless DJANGO_SETTINGS_MODULE says otherwise."""

import os

from django.core.wsgi import get_wsgi_application

from {{ cookiecutter.project_slug }}.settings.environment import exit_on_configuration_error
from {{ cookiecutter.project_slug }}.static_front import StaticFront

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{{ cookiecutter.project_slug }}.settings.production")

# Static files are answered in front of Django, with the headers its middleware adds (see
# static_front.py); everything else goes through Django.
application = StaticFront(exit_on_configuration_error(get_wsgi_application))
