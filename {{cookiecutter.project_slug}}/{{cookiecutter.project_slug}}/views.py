"""Pages: the landing page and the error page for server errors."""

from django.conf import settings
from django.http import HttpResponseServerError
from django.template import loader
from django.views.generic import TemplateView


class HomeView(TemplateView):
    """Show the landing page. It reads no database, so it stays up while the database is down."""

    template_name = "home.html"


def server_error(request):
    """Return the 500 page, rendered without context processors: they may be what failed."""
    context = {"site_name": settings.PROJECT_NAME, "site_description": ""}
    return HttpResponseServerError(loader.render_to_string("500.html", context))
