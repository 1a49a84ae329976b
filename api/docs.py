"""The API's documentation pages under the site's strict Content-Security-Policy.

drf-spectacular's own templates put their initialising script and some CSS inline, and
its ReDoc page fetches Google Fonts: the policy (config/settings.py) blocks all three, so
the pages stayed blank. These views keep its data and use our templates, which load only
files from this server (drf-spectacular-sidecar and static/api/).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.csp import CSP
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI; its initialiser comes from the same view (?script), not inline."""

    template_name = "api/swagger_ui.html"


# The one <style> element the ReDoc bundle writes as it loads, before it can be given the
# nonce (perfect-scrollbar's CSS): its hash, and that of the empty element it first
# inserts. They change with the bundle (drf-spectacular-sidecar's version); a mismatch
# shows as a CSP violation in tests/e2e/test_api_docs.py.
REDOC_STYLE_HASHES = [
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
]


class RedocView(SpectacularRedocView):
    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        # This page's policy, still without unsafe-inline. ReDoc writes its styles into
        # <style> elements (styled-components): they carry the request's nonce, which
        # static/api/redoc.js hands to ReDoc. Its search index runs in a worker it starts
        # from a blob: URL; only a script already running here can make one.
        policy = dict(settings.SECURE_CSP)
        policy["style-src"] = [*policy["style-src"], CSP.NONCE, *REDOC_STYLE_HASHES]
        policy["worker-src"] = [CSP.SELF, "blob:"]
        response._csp_config = policy
        return response
