"""The national comparison where users read it: the indicator page, the division page, the
`report` command and the API. Nära's scorecard maps medicinsk_bedomning_3d to N79173 and
telefon_teleq to N79179; the values come from the local Kolada's recording through the sync.

Hand-checked: N79173 in 2022, higher is better, among the regions fetched (Norrbotten and
the three peers): Västernorrland 80,1, Jämtland Härjedalen 74,5, Norrbotten 71,2,
Västerbotten 69,0, so Norrbotten is 3rd of 4. The country: 78,4 (women 79,9, men 76,8).
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import create_token
from benchmarks.sync import sync_benchmarks
from tests.conftest import run

AREAS = ["0025", "0000", "0022", "0023", "0024"]


@pytest.fixture
def synced(nara, local_kolada, settings):
    settings.STYRKORT_KOLADA_REGION = "0025"
    settings.STYRKORT_KOLADA_PEERS = ["0022", "0023", "0024"]
    result = sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=[2020, 2021, 2022])
    assert result.errors == [] and result.created == 60
    return result


def _text(response) -> str:
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_indicator_page_shows_the_region_beside_the_country_with_its_rank(
    synced, client, cast, django_assert_max_num_queries
):
    client.force_login(cast["board"])
    url = reverse("dashboard:indicator", args=["medicinsk_bedomning_3d", "div_nara", "2022-T2"])
    with django_assert_max_num_queries(60):
        page = _text(client.get(url))
    assert "Jämförelse med riket" in page
    assert "Region Norrbotten har plats 3 av 4 regioner 2022" in page
    assert "plats 1 har högst värde" in page
    assert "Källa: Kolada (RKA), CC BY 4.0." in page and "Publicerad 2023-03-15." in page
    assert "Årsvärden" in page
    # The table behind the chart: Norrbotten, women, men, the country, women, men, peers.
    assert (
        '<th scope="row">2022</th> <td class="num">71,2 %</td> <td class="num">73 %</td>'
        '<td class="num">69,1 %</td> <td class="num">78,4 %</td>' in page
    )
    assert 'id="national-chart"' in page


def test_national_chart_is_a_figure_plotly_accepts_unchanged(synced):
    # Built as plain dicts like the other charts (tests/scorecard/test_chart_json.py): a
    # property plotly.js does not know, or a value of the wrong type, fails here.
    import plotly.graph_objects as go

    from benchmarks.selectors import national_comparison
    from dashboard.charts import national_chart
    from indicators.models import Indicator

    indicator = Indicator.objects.get(code="medicinsk_bedomning_3d")
    figure = json.loads(json.dumps(national_chart(national_comparison(indicator), "share")))
    assert [trace["name"] for trace in figure["data"]][:2] == ["Region Norrbotten", "Riket"]
    assert json.loads(json.dumps(go.Figure(figure).to_plotly_json())) == figure


def test_an_unmapped_indicator_has_no_national_section(synced, client, cast):
    client.force_login(cast["board"])
    url = reverse("dashboard:indicator", args=["fast_lakarkontakt", "div_nara", "2022-T2"])
    assert "Jämförelse med riket" not in _text(client.get(url))


def test_division_page_and_report_carry_the_countrys_latest_value(synced, client, cast):
    client.force_login(cast["board"])
    page = _text(client.get(reverse("dashboard:division", args=["div_nara", "2022-T2"])))
    assert "Riket (Kolada, helår)" in page
    assert '78,4 % <span class="muted">(2022)</span>' in page  # total
    assert '79,9 % <span class="muted">(2022)</span>' in page  # women
    header, *rows = run(
        "report", "--org-unit", "div_nara", "--period", "2022-T2", "--format", "csv"
    ).splitlines()
    assert header.endswith(",coverage,national,national_year")
    line = next(r for r in rows if ",medicinsk_bedomning_3d,men," in r)
    assert line.endswith(",76.8,2022")
    unmapped = next(r for r in rows if ",fast_lakarkontakt,total," in r)
    assert unmapped.endswith(",,")


def test_api_lists_values_and_the_report_line_carries_the_national_value(synced, cast):
    _token, key = create_token(user=cast["board"], name="test")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    answer = api.get("/api/v1/benchmarks/?indicator=medicinsk_bedomning_3d&area=0000&year=2022")
    assert answer.status_code == 200, answer.content
    rows = answer.json()["results"]
    assert {(r["gender"], r["value"]) for r in rows} == {
        ("T", "78.4"),
        ("K", "79.9"),
        ("M", "76.8"),
    }
    assert rows[0]["area_name"] == "Riket" and rows[0]["source"] == "Kolada (RKA)"
    assert api.get("/api/v1/benchmarks/?gender=X").status_code == 400
    report = api.get("/api/v1/reports/div_nara/2022-T2/").json()
    line = next(
        li
        for li in report["lines"]
        if (li["indicator"], li["breakdown"]) == ("medicinsk_bedomning_3d", "total")
    )
    assert (line["national_value"], line["national_year"]) == (78.4, 2022)
    indicator = api.get("/api/v1/indicators/telefon_teleq/").json()
    assert indicator["kolada_kpi"] == "N79179"
