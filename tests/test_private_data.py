"""Issue 11, finding 10 (the parts about what leaves the server): no cache keeps a signed-in
user's pages or API data, chart labels never render names as HTML, and decimals in JSON are
exact strings."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.services import create_token
from divisions.models import OrgUnit
from indicators.models import Measurement
from scorecard.models import Perspective

HOSTILE = '<a href="https://angripare.example/">Klicka här</a> <b>fet</b> & <img src=x>'


@pytest.fixture
def reader(db):
    return get_user_model().objects.create_user("lasare")


def no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives and "public" not in directives


@pytest.mark.parametrize(
    "path",
    [
        "/oversikt/2022-T2/",
        "/styrkort/div_nara/2022-T2/",
        "/styrkort/div_nara/2022-T2/styrkort.xlsx",
        "/konto/",
        "/api/v1/measurements/",
        "/api/v1/measurements/?format=csv&org_unit=avp_pajala",
        "/api/v1/org-units/div_nara/",
    ],
)
def test_a_signed_in_users_pages_and_data_are_private_and_not_stored(client, reader, nara, path):
    client.force_login(reader)
    response = client.get(path)
    assert response.status_code == 200
    assert no_store(response), response.get("Cache-Control")


def test_api_data_for_a_key_is_private_and_not_stored(reader, nara):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_token(user=reader, name='x')[1]}")
    assert no_store(api.get("/api/v1/measurements/?format=xlsx&org_unit=avp_pajala"))
    assert no_store(api.get("/api/v1/perspectives/"))


def test_static_files_keep_their_own_caching(client, reader):
    client.force_login(reader)
    response = client.get("/static/vendor/plotly/plotly.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def _figures(html: str) -> list[dict]:
    scripts = re.findall(r'<script id="[^"]*-data" type="application/json">(.*?)</script>', html)
    assert scripts, "the page has charts"
    return [json.loads(script) for script in scripts]


def test_chart_labels_and_hover_text_show_names_as_text_never_as_html(client, reader, nara):
    """plotly.js reads <a href>, <b> and the like in labels and hover text: a unit or a
    perspective named like that must show as typed, not become a link."""
    unit = (
        OrgUnit.objects.filter(parent__code="primarvarden", measurements__period="2022-T2")
        .distinct()
        .first()
    )
    OrgUnit.objects.filter(pk=unit.pk).update(name=HOSTILE)
    indicator = Measurement.objects.filter(org_unit=unit, period="2022-T2").first().indicator
    Perspective.objects.filter(pk=Perspective.objects.order_by("order").first().pk).update(
        name=HOSTILE
    )
    client.force_login(reader)
    pages = [
        client.get(f"/styrmatt/{indicator.code}/primarvarden/2022-T2/").text,
        client.get("/styrkort/div_nara/2022-T2/").text,
    ]
    strings = [s for html in pages for figure in _figures(html) for s in _strings(figure)]
    assert any("&lt;a href=" in s for s in strings), "the name is in a chart, escaped"
    tags = re.compile(r"<(?!/?extra>)[a-z/]", re.I)  # <extra> is the template's own
    assert not [s for s in strings if tags.search(s)]


def test_decimals_in_json_are_exact_strings(reader, nara):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_token(user=reader, name='x')[1]}")
    row = api.get("/api/v1/measurements/?org_unit=avp_pajala").json()["results"][0]
    stored = Measurement.objects.get(pk=row["id"])
    assert isinstance(row["value"], str) and Decimal(row["value"]) == stored.value
    one = api.get(f"/api/v1/measurements/{row['id']}/").json()
    assert one["value"] == row["value"]
    indicator = api.get("/api/v1/indicators/?page_size=1000").json()["results"]
    targets = [t for i in indicator for t in i["targets"] if t["value"] is not None]
    assert targets and all(isinstance(t["value"], str) for t in targets)
