"""URLs: the landing page, the health checks and the admin (at DJANGO_ADMIN_URL).

The admin's login page offers a password reset (Django's own views and the admin's templates):
the mail with the link is queued as a task and sent by the worker.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
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
    path(
        f"{settings.ADMIN_URL}password_reset/",
        auth_views.PasswordResetView.as_view(),
        name="admin_password_reset",
    ),
    path(
        f"{settings.ADMIN_URL}password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler500 = "{{ cookiecutter.project_slug }}.views.server_error"
