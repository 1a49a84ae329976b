"""The OpenAPI schema and its docs, and schemathesis fuzzing every operation against a live
server with a token: no server error, and no response that breaks the schema.

The fuzzing fails the run (it never skips) when it finds a problem; examples are bounded per
operation so that both runs (an administrator's token and a board member's) finish in about
two minutes.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from django.contrib.staticfiles import finders
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.services import create_token
from api.renderers import XLSX_MEDIA_TYPE as XLSX

from .test_tokens import RESOURCES

EXAMPLES_PER_OPERATION = 12


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


@pytest.fixture(params=["administrator", "board_member"])
def fuzz_key(cast, settings, request):
    """A token of an administrator (every write path is open to it) and of a board member
    (reads everything, every write refused); no throttling while fuzzing."""
    settings.STYRKORT_API_THROTTLE_RATE = ""
    settings.STYRKORT_API_EXPORT_THROTTLE_RATE = ""
    _token, key = create_token(user=cast[request.param], name="schemathesis")
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
            except Unsatisfiable:
                # Nothing of this operation can be made invalid (a GET of one object by a
                # code, which any string may be): there is no negative case to send.
                if mode is not GenerationMode.NEGATIVE:
                    raise
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # each operation's first failure, reported together
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:3000]
    assert operations >= 26
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())


def _schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_every_operation_documents_its_errors_as_json(client, db):
    schema = _schema(client)
    error = schema["components"]["schemas"]["Error"]
    assert error["type"] == "object" and "detail" in error["properties"]
    operations = 0
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in methods.items():
            operations += 1
            responses = operation["responses"]
            expected = {"401", "404", "429"}
            if method != "get":
                expected |= {"400", "403", "409"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for code in expected:
                content = responses[code]["content"]
                assert list(content) == ["application/json"], (method, path, code)
            assert "Retry-After" in responses["429"]["headers"]
    assert operations >= 26


def test_only_lists_document_csv_and_xlsx(client, db):
    schema = _schema(client)
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            formats = set(operation["responses"].get("200", {}).get("content", {}))
            tabular = formats & {"text/csv", XLSX}
            # Lists, a value's history and the report (its lines) are tables.
            table_paths = path.endswith("/history/") or path.startswith("/api/v1/reports/")
            listing = method == "get" and (table_paths or "{" not in path)
            if path.startswith("/api/v1/") and formats:
                assert bool(tabular) == listing, (method, path, formats)


def test_one_object_asked_for_as_a_table_answers_the_documented_json(api):
    response = api.get("/api/v1/org-units/div_nara/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert api.get("/api/v1/org-units/div_nara/", HTTP_ACCEPT="text/csv").json()["code"]


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-thing/", "/api/v2/measurements/", "/api/v1/measurements/x/y/"]
)
def test_an_unknown_api_address_answers_json(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["detail"]


def test_a_refused_write_answers_one_json_object(clients):
    response = clients["administrator"].post(
        "/api/v1/measurements/",
        {
            "indicator": "besok_filialer",
            "org_unit": "avp_pajala",
            "period": "2022-T2",
            "breakdown": "ingen_sadan",
            "value": "1",
        },
        format="json",
    )
    assert response.status_code == 400
    assert isinstance(response.json(), dict)
