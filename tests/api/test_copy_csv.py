"""The large CSV exports, written by PostgreSQL's COPY (api.copy_csv), hold the cells the
generic Python writer gives for the same rows: hostile text (formulas, quotes, line breaks,
negative numbers, no-break spaces), numbers without trailing zeros, JSON details and times
in the site's zone, summer and winter, with and without microseconds."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from psycopg.pq import TransactionStatus

from api.copy_csv import copy_csv
from api.renderers import _csv_text
from api.values.export_columns import MEASUREMENT_COLUMNS
from domain.exchange.format import HEADER
from domain.exchange.writing import _export_cell
from indicators.models import Assessment, Measurement

BASE = "/api/v1"

HOSTILE = [
    "=1+1",
    "+46 70 123",
    "@SUM(A1)",
    "\t=x",
    "-3",
    "-0,5",
    "-12 %",
    "-12\u00a0%",
    "-1+cmd|' /C calc'!A0",
    "'=already quoted",
    "''-2",
    'a "quoted" word',
    "a, b; c",
    "rad ett\nrad två",
    "mitt\ri",
    "\\.",
    "-",
    "Måluppfyllelse ≥ 90 % 😀",
    "<b>a & b</b> > c",
    "styr\x01tecken\x0bny rad\x1f",
    "",
]


def _content(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture
def hostile_rows(cast):
    measurements = list(Measurement.objects.order_by("pk")[: len(HOSTILE)])
    for measurement, text in zip(measurements, HOSTILE, strict=True):
        measurement.comment = text
    Measurement.objects.bulk_update(measurements, ["comment"])
    Measurement.objects.filter(pk=measurements[0].pk).update(
        value=Decimal("12.500000"), numerator=Decimal("0"), denominator=Decimal("1000000.25")
    )
    assessments = list(Assessment.objects.order_by("pk")[: len(HOSTILE)])
    for assessment, text in zip(assessments, HOSTILE, strict=True):
        assessment.analysis = text
        assessment.override_status = "partly" if text else ""
        assessment.override_comment = text
    Assessment.objects.bulk_update(assessments, ["analysis", "override_status", "override_comment"])
    # Winter (+01:00) with microseconds, summer (+02:00) on a whole second.
    Assessment.objects.filter(pk=assessments[0].pk).update(
        computed_at=datetime(2022, 1, 15, 9, 30, 5, 120, tzinfo=UTC)
    )
    Assessment.objects.filter(pk=assessments[1].pk).update(
        computed_at=datetime(2022, 7, 1, 22, 0, 0, tzinfo=UTC)
    )


def test_measurements_copy_gives_the_exchange_writers_cells(api, hostile_rows):
    # An updated row is written anew at the end of the table: the export still goes by id.
    first = Measurement.objects.order_by("id").first()
    Measurement.objects.filter(pk=first.pk).update(comment=F("comment"))
    response = api.get(f"{BASE}/measurements/?format=csv")
    assert response.status_code == 200
    text = _content(response)
    copied = _cells(text)
    expected = [
        [_export_cell(value) for value in row]
        for row in Measurement.objects.order_by("id").values_list(
            "indicator__code", "org_unit__code", *HEADER[2:]
        )
    ]
    assert copied[0] == list(HEADER)  # the exchange format's columns
    assert copied[1:] == expected  # the same rows, in the list's order (by id)
    assert ["12.5", "0", "1000000.25"] in [row[4:7] for row in copied[1:]]
    comments = {row[7] for row in copied[1:]}
    assert {"'=1+1", "-3", "-12\u00a0%", "'-1+cmd|' /C calc'!A0", "''=already quoted"} <= comments
    assert {"rad ett\nrad två", "mitt\ri", "-"} <= comments


def test_assessments_copy_gives_the_serializers_cells(api, hostile_rows):
    response = api.get(f"{BASE}/assessments/?format=csv")
    assert response.status_code == 200
    copied = _cells(_content(response))
    as_json = api.get(f"{BASE}/assessments/?page_size=1000").json()["results"]
    columns = copied[0]
    assert columns[:3] == ["id", "indicator", "org_unit"]
    expected = [[_csv_text(row[column]) for column in columns] for row in as_json]
    assert len(expected) == Assessment.objects.count()
    assert sorted(copied[1:], key=lambda r: int(r[0])) == sorted(expected, key=lambda r: int(r[0]))
    times = {row[columns.index("computed_at")] for row in copied[1:]}
    assert {"2022-01-15T10:30:05.000120+01:00", "2022-07-02T00:00:00+02:00"} <= times


@pytest.mark.parametrize(
    ("zone", "winter", "summer"),
    [
        ("UTC", "2022-01-15T09:30:05.000120Z", "2022-07-01T22:00:00Z"),
        # Behind UTC, by a part of an hour: the sign and the minutes of the offset.
        ("America/St_Johns", "2022-01-15T06:00:05.000120-03:30", "2022-07-01T19:30:00-02:30"),
    ],
)
def test_copy_writes_times_in_the_sites_zone_as_the_serializer_does(
    api, hostile_rows, settings, zone, winter, summer
):
    settings.TIME_ZONE = zone
    copied = _cells(_content(api.get(f"{BASE}/assessments/?format=csv")))
    column = copied[0].index("computed_at")
    as_json = api.get(f"{BASE}/assessments/?page_size=1000").json()["results"]
    assert sorted(row[column] for row in copied[1:]) == sorted(
        row["computed_at"] for row in as_json
    )
    assert {winter, summer} <= {row[column] for row in copied[1:]}


def test_an_export_leaves_the_connections_time_zone_as_it_was(api, hostile_rows):
    """The COPY runs in the site's zone (api.copy_csv.in_site_zone); what the connection
    runs next, in the same transaction too (the test's own), is in UTC again."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW TimeZone")
        (before,) = cursor.fetchone()
    for query in ("assessments/?format=csv", "assessments/?format=xlsx"):
        response = api.get(f"{BASE}/{query}")
        assert response.status_code == 200
        b"".join(response.streaming_content) if response.streaming else response.content
        with connection.cursor() as cursor:
            cursor.execute("SHOW TimeZone")
            assert cursor.fetchone() == (before,)
    assert before == "UTC"


def _zone_and_status() -> tuple[str, bool]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW TimeZone")
        (zone,) = cursor.fetchone()
    return zone, connection.connection.info.transaction_status == TransactionStatus.IDLE


@pytest.mark.django_db(transaction=True)
def test_an_export_on_its_own_ends_its_zone_with_its_transaction(api, hostile_rows):
    """As in production, with no transaction around the request: the COPY's zone lasts as
    long as the export's own transaction, read to the end or left unread."""
    response = api.get(f"{BASE}/assessments/?format=csv")
    cells = _cells(_content(response))
    assert "2022-07-02T00:00:00+02:00" in {row[-1] for row in cells[1:]}
    assert _zone_and_status() == ("UTC", True)

    response = api.get(f"{BASE}/assessments/?format=csv")
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks)  # the header, then the COPY's rows: inside its transaction
    assert _zone_and_status() == ("Europe/Stockholm", False)
    response.close()  # the client went away
    assert _zone_and_status() == ("UTC", True)


def test_the_api_sends_copys_text_and_reads_no_row_in_python(api, hostile_rows):
    direct = "".join(copy_csv(Measurement.objects.order_by("id"), MEASUREMENT_COLUMNS)())
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"{BASE}/measurements/?format=csv")
        text = _content(response)
    assert sorted(text.splitlines()) == sorted(direct.splitlines())
    # Django's log sees the page's own queries (the token, the count under the limit), not
    # a SELECT of the rows: those went through COPY.
    rows = [q["sql"] for q in queries.captured_queries if '."comment"' in q["sql"]]
    assert [sql for sql in rows if not sql.startswith("SELECT COUNT(*)")] == []


def test_assessments_xlsx_writes_the_details_as_json_of_the_stored_dict(api, hostile_rows):
    """The XLSX export takes the details as jsonb's own text rather than parsing and writing
    them again: the cell is the JSON the API's page gives, hostile keys and texts included."""
    from openpyxl import load_workbook

    details = {
        "total": {"status": "fulfilled", "trend": None, "target": 'Minst "90 %"\nåret ut 😀'},
        "kvinnor, <äldre>": {"status": None, "threshold": "-0.5", "target": "=1+1"},
    }
    assessment = Assessment.objects.order_by("pk").first()
    Assessment.objects.filter(pk=assessment.pk).update(details=details)
    response = api.get(f"{BASE}/assessments/?format=xlsx")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("details")
    cell = next(row[column] for row in rows[1:] if row[0] == assessment.pk)
    page = api.get(f"{BASE}/assessments/?page_size=1000").json()["results"]
    shown = next(row["details"] for row in page if row["id"] == assessment.pk)
    assert json.loads(cell) == shown == details
    assert cell == json.dumps(shown, ensure_ascii=False)


def _sheet(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_measurements_xlsx_from_the_database_is_the_sheet_of_the_model_rows(api, hostile_rows):
    """The measurements' XLSX export also reads cells the database formats: its rows are,
    byte for byte, the ones the generic writer makes of the same rows read by the ORM
    (hostile text as it is, numbers as numbers without trailing zeros), in id order."""
    from api.renderers import Table, write_table_xlsx

    response = api.get(f"{BASE}/measurements/?format=xlsx")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = [
        dict(zip(HEADER, values, strict=True))
        for values in Measurement.objects.order_by("id").values_list(
            "indicator__code", "org_unit__code", *HEADER[2:]
        )
    ]
    generic = io.BytesIO()
    write_table_xlsx(Table(columns=HEADER, rows=rows, name="measurements"), generic)
    exported = _sheet(body)
    assert len(rows) == Measurement.objects.count() > len(HOSTILE)
    assert exported == _sheet(generic.getvalue())
    assert "<v>12.5</v>" in exported and "<v>1000000.25</v>" in exported
    assert ">=1+1<" in exported and "'=1+1" not in exported  # text as it is: never a formula
    assert "mitt\ri" in exported  # a carriage return kept


def test_assessments_xlsx_from_the_database_is_the_sheet_of_the_pages_rows(api, hostile_rows):
    """The XLSX export's rows are XML the database writes (api.copy_csv.sheet_xml), not model
    rows through the serializer: its sheet is, byte for byte, the one the generic writer
    makes of the JSON page's rows (hostile text, overrides, summer and winter times)."""
    from api.renderers import Table, write_table_xlsx

    response = api.get(f"{BASE}/assessments/?format=xlsx")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    page = api.get(f"{BASE}/assessments/?page_size=1000").json()["results"]
    assert len(page) == Assessment.objects.count()
    generic = io.BytesIO()
    write_table_xlsx(Table(columns=list(page[0]), rows=page, name="assessments"), generic)

    exported = _sheet(body)
    assert exported == _sheet(generic.getvalue())
    assert "2022-01-15T10:30:05.000120+01:00" in exported  # winter, microseconds
    assert "2022-07-02T00:00:00+02:00" in exported  # summer
    assert "=1+1" in exported and "'=1+1" not in exported  # text as it is: never a formula


def test_the_measurement_page_writes_each_row_as_the_serializer_writes_its_instance(
    api, hostile_rows
):
    """The list reads plain rows, its numbers as text PostgreSQL writes (PlainDecimalText):
    every row is what MeasurementSerializer makes of the model instance, trailing zeros
    gone, a zero kept, hostile comments as they are."""
    from api.values.serializers import MeasurementSerializer

    page = api.get(f"{BASE}/measurements/?page_size=1000").json()["results"]
    instances = Measurement.objects.select_related("indicator", "org_unit", "entered_by")
    expected = {m.pk: MeasurementSerializer(m).data for m in instances}
    assert len(page) == len(expected) > len(HOSTILE)
    assert {row["id"]: row for row in page} == {pk: dict(row) for pk, row in expected.items()}
    numbers = [(row["value"], row["numerator"], row["denominator"]) for row in page]
    assert ("12.5", "0", "1000000.25") in numbers
