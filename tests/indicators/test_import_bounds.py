"""Bounds on what one file can cost (issue 11, finding 1): the stored error list, the columns
and the rows of a file.

A 2 MB CSV whose header has 10^6 column names once stored 1,000,004 errors on its import,
and every page and API answer that showed the import carried them all.
"""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from domain.exchange.format import RowError
from indicators.imports.run import ImportRejected, import_measurements
from indicators.models import Import, ImportSource
from tests.indicators.conftest import HEADER, csv_file, wait_for

MILLION_COLUMNS = b"x," * 999_999 + b"x\n" + b"a\n"  # 2 MB: 10^6 column names, one row


def stored_bytes(pk: int) -> int:
    """What the import's row holds in its error list, as PostgreSQL stores it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_column_size(errors) FROM indicators_import WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_a_header_of_a_million_columns_leaves_a_small_record(worker, cast, client, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(MILLION_COLUMNS)
    api = APIClient()
    api.force_authenticate(cast["manager"])
    with path.open("rb") as handle:
        sent = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
    assert sent.status_code == 202, sent.content
    record = wait_for(sent.json()["id"])
    assert record.status == "failed"
    # One error that names the limit, not a million that name each column.
    assert record.error_count == 1
    [error] = record.errors
    assert "1 000 000 kolumner" in error["message"] and "100" in error["message"]
    assert stored_bytes(record.pk) < 1_000

    listing = api.get("/api/v1/imports/")
    assert listing.status_code == 200 and len(listing.content) < 20_000
    [item] = [i for i in listing.json()["results"] if i["id"] == record.pk]
    assert item["error_count"] == 1
    detail = api.get(sent.json()["url"])
    assert len(detail.content) < 20_000 and detail.json()["error_count"] == 1

    client.force_login(cast["manager"])
    page = client.get(reverse("indicators:import", args=[record.pk]))
    assert page.status_code == 200 and len(page.content) < 100_000
    assert "1 000 000 kolumner" in page.text
    history = client.get(reverse("indicators:imports"))
    assert history.status_code == 200 and len(history.content) < 100_000


def test_many_bad_rows_keep_the_first_thousand_errors_and_count_all(worker, cast, client, tmp_path):
    body = "".join(f"okand,div_nara,2022-T2,total,{n},,,\n" for n in range(5_000))
    api = APIClient()
    api.force_authenticate(cast["manager"])
    with csv_file(tmp_path, body).open("rb") as handle:
        sent = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
    record = wait_for(sent.json()["id"])
    assert (record.status, record.rejected, record.error_count) == ("failed", 5_000, 5_000)
    assert len(record.errors) == 1_000
    first = {"row": 2, "column": "indicator", "message": "unknown indicator 'okand'"}
    # With the code and parameters that say it in the reader's language (indicators.messages).
    assert {key: record.errors[0][key] for key in first} == first
    assert record.errors[0]["code"] == "unknown_indicator"
    assert stored_bytes(record.pk) < 200_000

    detail = api.get(sent.json()["url"]).json()
    assert (detail["error_count"], len(detail["errors"])) == (5_000, 1_000)
    listing = api.get("/api/v1/imports/")
    assert len(listing.content) < 20_000
    [item] = [i for i in listing.json()["results"] if i["id"] == record.pk]
    assert item["error_count"] == 5_000 and "errors" not in item

    client.force_login(cast["board"])  # everyone reads the record
    page = client.get(reverse("indicators:import", args=[record.pk])).text
    assert "5000 fel; de första 1000 visas." in page


def test_the_record_keeps_the_first_thousand_errors_of_any_failure(cast):
    record = Import.start(filename="x.csv", sha256="0" * 64, size=1, source=ImportSource.COMMAND)
    record.fail(RowError(n, "", f"error {n}") for n in range(1, 5_001))
    record.refresh_from_db()
    assert (record.error_count, len(record.errors)) == (5_000, 1_000)
    assert record.errors[-1] == {"row": 1_000, "column": "", "message": "error 1000"}


def test_the_import_history_never_reads_the_error_lists(cast, client):
    for n in range(3):
        record = Import.start(
            filename=f"{n}.csv", sha256=f"{n}" * 64, size=1, source=ImportSource.COMMAND
        )
        record.fail(RowError(row, "", "bad") for row in range(2, 2_000))
    client.force_login(cast["analyst"])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("indicators:imports")).status_code == 200
    assert not [q["sql"] for q in queries if '"errors"' in q["sql"]]
    api = APIClient()
    api.force_authenticate(cast["analyst"])
    with CaptureQueriesContext(connection) as queries:
        listing = api.get("/api/v1/imports/")
    assert listing.status_code == 200
    assert [i["error_count"] for i in listing.json()["results"][:3]] == [1_998] * 3
    assert not [q["sql"] for q in queries if '"errors"' in q["sql"]]


def _run(body: bytes, name: str = "values.csv") -> list[RowError]:
    with pytest.raises(ImportRejected) as rejected:
        import_measurements(fileobj=io.BytesIO(body), filename=name)
    return rejected.value.errors


def test_a_file_over_the_row_limit_is_refused_naming_the_limit(nara, settings):
    settings.STYRKORT_IMPORT_MAX_ROWS = 5  # rows of the file, the header included
    rows = [f"telefon_teleq,div_nara,2022-{m:02d},total,90,,,\n" for m in range(1, 6)]
    [error] = _run((HEADER + "".join(rows)).encode())
    assert error.row == 6
    assert error.message == "Filen har fler än 5 rader (gränsen); dela upp den i flera filer."
    record = Import.objects.latest("pk")
    assert (record.status, record.error_count) == ("failed", 1)
    # At the limit it is read.
    body = (HEADER + "".join(rows[:4])).encode()
    assert import_measurements(fileobj=io.BytesIO(body), filename="ok.csv").created == 4


def test_a_header_over_the_column_limit_is_refused_naming_the_limit(nara):
    header = HEADER.strip() + "," + ",".join(f"extra{n}" for n in range(93)) + "\n"
    [error] = _run((header + "telefon_teleq,div_nara,2022-T2,total,90\n").encode())
    assert (error.row, error.column) == (1, "")
    assert error.message == "Raden har 101 kolumner; gränsen är 100."


def test_each_stored_error_is_short_whatever_cell_it_quotes(nara):
    code = "x" * 30_000  # an error quotes the cell it is about
    body = "".join(f"{code},div_nara,2022-{m:02d},total,1,,,\n" for m in range(1, 13)) * 100
    errors = _run((HEADER + body).encode())
    assert len(errors) == 1_000
    record = Import.objects.latest("pk")
    assert record.error_count == 1_200
    assert {len(error["message"]) for error in record.errors} == {300}
    assert record.errors[0]["message"].startswith("unknown indicator 'xxx")
    assert record.errors[0]["message"].endswith("x…")
    assert stored_bytes(record.pk) < 50_000


def test_a_cell_longer_than_excel_allows_is_a_row_error(nara):
    comment = "å" * 32_768
    [error] = _run((HEADER + f"telefon_teleq,div_nara,2022-T2,total,96,,,{comment}\n").encode())
    assert (error.row, error.column) == (2, "comment")
    assert error.message == "has 32 768 characters; a cell holds at most 32 767"
    [error] = _run(
        (HEADER + f"telefon_teleq,div_nara,2022-T2,total,96,,,{'a' * 40_000}\n").encode()
    )
    assert error.message == "has 40 000 characters; a cell holds at most 32 767"
