"""URLs: the landing page, the health checks and the admin (at DJANGO_ADMIN_URL)."""

from django.conf import settings
from django.contrib import admin
from django.urls import path
{%- if cookiecutter.admin_two_factor %}
from django_otp.admin import OTPAdminSite
{%- endif %}

from . import health, views
{%- if cookiecutter.admin_two_factor %}
from .two_factor import TwoFactorLoginForm
{%- endif %}

admin.site.site_header = settings.PROJECT_NAME
admin.site.site_title = settings.PROJECT_NAME
{%- if cookiecutter.admin_two_factor %}
# Two-factor sign-in: the admin admits only staff verified by a TOTP device (django-otp). The
# login form asks for the code; `manage.py enroll_two_factor <username>` enrolls a device.
admin.site.__class__ = OTPAdminSite
admin.site.login_form = TwoFactorLoginForm
# The login page with the code field, a meta description and the site's icon (templates/admin/).
admin.site.login_template = "admin/site_login_two_factor.html"
{%- else %}
# The admin's login page with a meta description and the site's icon (templates/admin/).
admin.site.login_template = "admin/site_login.html"
{%- endif %}

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("health/", health.readiness, name="health"),
    path("health/live/", health.liveness, name="health-live"),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler500 = "{{ cookiecutter.project_slug }}.views.server_error"
