"""WSGI entry point for gunicorn. Production settings unless DJANGO_SETTINGS_MODULE says otherwise."""

import os

from django.core.wsgi import get_wsgi_application

from {{ cookiecutter.project_slug }}.settings.environment import exit_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{{ cookiecutter.project_slug }}.settings.production")

django_application = exit_on_configuration_error(get_wsgi_application)

# Static files, the kept landing page and a fresh /health/ answer are given before Django is
# entered, with the headers Django gave them (see front.py); everything else goes through Django.
# Imported once the settings are loaded: health.py reads them when it is imported.
from {{ cookiecutter.project_slug }}.front import Front  # noqa: E402

application = Front(django_application)
