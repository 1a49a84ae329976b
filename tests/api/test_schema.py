"""The OpenAPI schema and its docs, and schemathesis fuzzing every operation against a live
server with a token: no server error, and no response that breaks the schema.

The fuzzing fails the run (it never skips) when it finds a problem; examples are bounded per
operation so that it finishes in a couple of minutes.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from django.contrib.staticfiles import finders
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.services import create_token

from .test_tokens import RESOURCES

EXAMPLES_PER_OPERATION = 25


def test_the_schema_is_openapi_3_and_describes_every_resource(client, db):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for resource in RESOURCES:
        assert f"/api/v1/{resource}/" in schema["paths"], resource
    assert "/api/v1/measurements/{id}/history/" in schema["paths"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    listing = schema["paths"]["/api/v1/measurements/"]["get"]
    names = {parameter["name"] for parameter in listing["parameters"]}
    assert {
        "indicator",
        "org_unit",
        "subtree",
        "period",
        "period_from",
        "period_to",
        "period_kind",
        "breakdown",
        "updated_since",
        "cursor",
        "page_size",
        "format",
        "layout",
    } <= names
    assert {"application/json", "text/csv"} <= set(listing["responses"]["200"]["content"])


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_are_served_from_the_apps_own_static_files(client, db, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    if page == "/api/docs/":  # its initialiser is a script of its own, not inline (api/docs.py)
        html += client.get(page, {"script": ""}).text
    assert "/api/schema/" in html
    assert "<style" not in html and "fonts.googleapis" not in html
    assert "cdn" not in html.lower() and "//unpkg" not in html
    assert "/static/drf_spectacular_sidecar/" in html


def test_the_docs_assets_are_in_the_static_files(db):
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")


@pytest.fixture
def fuzz_key(cast, settings):
    """An administrator's token (every write path is open to it); no throttling while fuzzing."""
    settings.STYRKORT_API_THROTTLE_RATE = ""
    _token, key = create_token(user=cast["administrator"], name="schemathesis")
    return key


def test_every_operation_holds_to_the_schema(live_server, fuzz_key, request):
    # Driven through schemathesis' Python API rather than its pytest plugin, which does not
    # run under pytest 9; each operation gets valid and invalid (negative) requests.
    auth = {"Authorization": f"Token {fuzz_key}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    session = requests.Session()
    # Closed at the end: a kept-alive connection holds the live server's database session,
    # and the test database could then not be dropped.
    request.addfinalizer(session.close)
    checks = [not_a_server_error, response_schema_conformance]
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures[f"schema {result.err()}"] = "the operation cannot be tested"
            continue
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,  # the same cases every run: CI fails or passes reproducibly
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                case.call_and_validate(session=session, headers=auth, checks=checks)

            try:
                run()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # each operation's first failure, reported together
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:3000]
    assert operations >= 26
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())
