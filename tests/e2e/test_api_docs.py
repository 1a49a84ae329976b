"""The API's documentation pages (/api/docs/ Swagger UI, /api/redoc/ ReDoc) in Chromium.

They run under the site's own strict Content-Security-Policy (no inline script or style)
and load everything from this server: no CDN, no web fonts from elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

# Every violation of the policy, whether or not the browser also logs it.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/api/docs/", "#swagger-ui .opblock-summary-path >> text=/api/v1/actions/"),
        ("/api/redoc/", "#redoc-container h2 >> text=actions_list"),
    ],
)
def test_the_api_docs_render_under_the_strict_policy_from_this_server_only(
    page, live_server, path, operation
):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(RECORD_VIOLATIONS)

    response = page.goto(path)
    assert response.status == 200
    policy = response.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "script-src 'self'" in policy
    page.locator(operation).first.wait_for(state="visible")
    page.wait_for_load_state("networkidle")

    violations = page.evaluate("window.cspViolations")
    assert violations == [], violations
    assert page.console_errors == []
    own = urlsplit(live_server.url)
    elsewhere = [
        url
        for url in requests
        if urlsplit(url).scheme not in {"data", "blob"}
        and (urlsplit(url).hostname, urlsplit(url).port) != (own.hostname, own.port)
    ]
    assert elsewhere == []
    assert own.hostname in {"127.0.0.1", "localhost"}
