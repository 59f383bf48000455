"""The {{ cookiecutter.project_slug }} project package: settings, URLs, health checks and commands."""
