"""URLs: the landing page, the health checks and the admin (at DJANGO_ADMIN_URL)."""

from django.conf import settings
from django.contrib import admin
from django.urls import path

from . import health, views

admin.site.site_header = settings.PROJECT_NAME
admin.site.site_title = settings.PROJECT_NAME
# The admin's login page with a meta description and the site's icon (templates/admin/).
admin.site.login_template = "admin/site_login.html"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("health/", health.readiness, name="health"),
    path("health/live/", health.liveness, name="health-live"),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler500 = "{{ cookiecutter.project_slug }}.views.server_error"
