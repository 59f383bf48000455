"""Cross-origin isolation headers, which Django has no setting for.

``Cross-Origin-Resource-Policy: same-origin`` stops other sites from embedding our pages and
files; ``Cross-Origin-Embedder-Policy: require-corp`` stops our pages from loading anything from
another origin that has not agreed to it (every page here loads only its own static files).
Listed right after SecurityMiddleware, before WhiteNoise, so static files carry them too.
Override the values with the settings CROSS_ORIGIN_RESOURCE_POLICY and
CROSS_ORIGIN_EMBEDDER_POLICY (None leaves the header out), e.g. to embed a third-party widget.
"""

from django.conf import settings


class CrossOriginPolicyMiddleware:
    """Add CORP and COEP to every response that does not set them itself."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.headers = {
            "Cross-Origin-Resource-Policy": getattr(
                settings, "CROSS_ORIGIN_RESOURCE_POLICY", "same-origin"
            ),
            "Cross-Origin-Embedder-Policy": getattr(
                settings, "CROSS_ORIGIN_EMBEDDER_POLICY", "require-corp"
            ),
        }

    def __call__(self, request):
        response = self.get_response(request)
        for name, value in self.headers.items():
            if value:
                response.headers.setdefault(name, value)
        return response
