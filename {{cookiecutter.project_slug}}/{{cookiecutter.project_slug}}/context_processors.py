"""Template context shared by every page."""

from django.conf import settings


def site(request):
    """Return the site's name and description, for titles and meta tags."""
    return {
        "site_name": settings.PROJECT_NAME,
        "site_description": settings.PROJECT_DESCRIPTION,
    }
