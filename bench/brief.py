"""Rebuild the brief's Django project, the reference the benchmark compares the site against.

The snippets below are copied, as data, from the project brief
(/work/shared/brief/BRIEF-007-railway-deployment.md, sections "Railway Configuration",
"Production Requirements", "Production Settings Architecture" and "Health Check
Implementation"). They are kept verbatim, bugs included: measuring them as written is the point.

The brief does not show its base settings, URLs or pages. ``build_brief_project`` fills those
gaps the way a user following the brief would (a standard ``startproject`` layout with
WhiteNoise and django-csp in the middleware, which the brief lists as installed and in use), and
serves the generated site's own landing page and stylesheet, so that both sides of the table
render the same page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: The brief's start command (railway.toml, [deploy] startCommand), verbatim.
START_COMMAND = (
    "python manage.py migrate && python manage.py collectstatic --noinput && "
    "gunicorn --bind 0.0.0.0:$PORT cfmp.wsgi:application"
)

#: The gunicorn part of the start command alone, for runs that must skip migrate (a hung database).
GUNICORN_COMMAND = "gunicorn --bind 0.0.0.0:$PORT cfmp.wsgi:application"

#: The brief's "Production Requirements", verbatim.
REQUIREMENTS = """\
# Production dependencies
Django==5.2.6
gunicorn==21.2.0
psycopg[binary]==3.1.13
whitenoise==6.6.0
django-environ==0.11.2
dj-database-url==2.1.0

# Security and monitoring
django-csp==3.7
sentry-sdk[django]==1.38.0

# Additional production dependencies
Pillow==10.1.0
redis==5.0.1
"""

#: cfmp/settings/production.py from the brief, verbatim.
PRODUCTION_SETTINGS = """\
# cfmp/settings/production.py
import os
import dj_database_url
import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

from .base import *

# Security configuration
DEBUG = False
SECRET_KEY = os.environ['SECRET_KEY']
ALLOWED_HOSTS = os.environ.get('ALLOWED_HOSTS', '').split(',')

# Database with Railway automatic configuration
DATABASES = {
    'default': dj_database_url.parse(
        os.environ['DATABASE_URL'],
        conn_max_age=600,
        conn_health_checks=True,
    )
}

# Static files with WhiteNoise
STATICFILES_STORAGE = 'whitenoise.storage.CompressedManifestStaticFilesStorage'

# Security headers for production
SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
"""

#: cfmp/health.py from the brief, verbatim.
HEALTH_VIEW = """\
# cfmp/health.py
from django.http import JsonResponse
from django.views import View
from django.db import connection
import django

class HealthCheckView(View):
    def get(self, request):
        # Database connectivity check
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            db_status = "healthy"
        except Exception as e:
            db_status = f"unhealthy: {str(e)}"

        # Overall system status
        status = "healthy" if db_status == "healthy" else "unhealthy"

        return JsonResponse({
            'status': status,
            'django_version': django.get_version(),
            'database': db_status,
        })
"""

# ------------------------------------------------------------------ gaps the brief leaves open

#: Base settings as ``django-admin startproject`` writes them (settings moved into a package),
#: plus what the brief's own text requires: WhiteNoise and django-csp in the middleware, a
#: STATIC_ROOT for its collectstatic, and the cfmp package installed for its templates and static.
BASE_SETTINGS = """\
# Filled in by bench/brief.py: the brief shows no base settings.
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = "unused: production.py reads SECRET_KEY"
DEBUG = False
ALLOWED_HOSTS = []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cfmp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cfmp.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "cfmp.wsgi.application"

DATABASES = {}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

#: The brief names cfmp/urls.py ("Health check URL routing") without showing it; the landing
#: page is the generated site's template, rendered by a plain TemplateView.
URLS = """\
# Filled in by bench/brief.py: the brief routes /health/ and shows no other URL.
from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from .health import HealthCheckView

SITE = {"site_name": "CFMP", "site_description": "Community Food Management Platform"}

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html", extra_context=SITE)),
    path("health/", HealthCheckView.as_view()),
    path("admin/", admin.site.urls),
]
"""

WSGI = """\
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cfmp.settings.production")
application = get_wsgi_application()
"""

MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cfmp.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""


def build_brief_project(dest: Path, site_package: Path | None = None) -> Path:
    """Write the brief's project into ``dest`` (created) and return it.

    ``site_package`` is the generated site's package folder (e.g. <site>/cfmp); its templates
    and static files are copied so the brief serves the same page and stylesheet.
    """
    package = dest / "cfmp"
    settings = package / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    files = {
        dest / "manage.py": MANAGE,
        dest / "requirements.txt": REQUIREMENTS,
        package / "__init__.py": "",
        package / "wsgi.py": WSGI,
        package / "urls.py": URLS,
        package / "health.py": HEALTH_VIEW,
        settings / "__init__.py": "",
        settings / "base.py": BASE_SETTINGS,
        settings / "production.py": PRODUCTION_SETTINGS,
    }
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    if site_package is not None:
        for folder in ("templates", "static"):
            source = site_package / folder
            if source.is_dir():
                shutil.copytree(source, package / folder, dirs_exist_ok=True)
    return dest
