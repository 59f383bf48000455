#!/usr/bin/env python
"""Django's command-line utility.

Settings: ``{{ cookiecutter.project_slug }}.settings.test`` for ``manage.py test``, ``{{ cookiecutter.project_slug }}.settings.local`` otherwise;
``--settings`` or DJANGO_SETTINGS_MODULE choose another (Railway's commands pass
``--settings={{ cookiecutter.project_slug }}.settings.production``).
"""

import os
import sys


def main():
    """Run a management command; a configuration problem ends it with one line."""
    default = "test" if sys.argv[1:2] == ["test"] else "local"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{{ cookiecutter.project_slug }}.settings.{default}")

    from django.core.management import execute_from_command_line

    from {{ cookiecutter.project_slug }}.settings.environment import exit_on_configuration_error

    exit_on_configuration_error(lambda: execute_from_command_line(sys.argv))


if __name__ == "__main__":
    main()
