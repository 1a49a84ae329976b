"""XLSX files are checked before they are parsed (issue 11, finding 2): a few hundred KiB
that unpack to hundreds of MB (a zip bomb), too many archive members, parts larger than the
parser should hold, and sheets that declare more rows or columns than allowed.

A 200 KiB workbook once cost 450 MB of worker memory; now it is refused from the archive's
directory, before any XML is read.
"""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from rest_framework.test import APIClient

from domain.exchange.archive import check_xlsx
from domain.exchange.format import HEADER, Limits, OverLimit
from domain.exchange.reading import read_measurements
from indicators.imports.run import ImportRejected, import_measurements
from tests.indicators.conftest import wait_for

ROW = ["telefon_teleq", "div_nara", "2022-T2", "total", 96, None, None, "rättat"]
SHEET = "xl/worksheets/sheet1.xml"


def workbook(rows: list[list] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(HEADER))
    for row in rows if rows is not None else [ROW]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rebuilt(
    replace: dict[str, bytes] | None = None,
    *,
    rows: list[list] | None = None,
    comment_bytes: int = 0,
    extra_members: int = 0,
) -> bytes:
    """A real workbook with parts replaced or added; `comment_bytes` of "A" in the comment
    cell (a zip bomb: written in blocks, so the test never holds it); `extra_members` tiny
    parts."""
    replace = replace or {}
    base = zipfile.ZipFile(io.BytesIO(workbook(rows)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in base.infolist():
            data = replace.get(info.filename, base.read(info))
            if info.filename == SHEET and comment_bytes:
                # openpyxl writes "ä" as UTF-8, or as a character reference when lxml is
                # installed (python-docx brings it).
                marker = re.search(rb"<t>r(\xc3\xa4|&#228;)ttat</t>", data).group(0)
                head, tail = data.split(marker)
                with archive.open(SHEET, "w") as sheet:
                    sheet.write(head + b"<t>")
                    block = b"A" * (1 << 20)
                    for _ in range(comment_bytes >> 20):
                        sheet.write(block)
                    sheet.write(b"</t>" + tail)
            else:
                archive.writestr(info.filename, data)
        for name in replace.keys() - set(base.namelist()):
            archive.writestr(name, replace[name])
        for number in range(extra_members):
            archive.writestr(f"customXml/item{number}.xml", b"<a/>")
    return out.getvalue()


def with_dimension(ref: str, rows: list[list] | None = None) -> bytes:
    sheet = zipfile.ZipFile(io.BytesIO(workbook(rows))).read(SHEET)
    sheet = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), sheet)
    return rebuilt({SHEET: sheet}, rows=rows)


def refused(data: bytes, limits: Limits | None = None) -> OverLimit:
    with pytest.raises(OverLimit) as over:
        check_xlsx(io.BytesIO(data), limits or Limits())
    return over.value


# ------------------------------------------------------------------- the archive check


def test_an_ordinary_workbook_passes_and_is_read():
    check_xlsx(io.BytesIO(workbook()), Limits())
    [row] = read_measurements(io.BytesIO(workbook()), "t2.xlsx")
    assert (row.indicator, row.value, row.comment) == ("telefon_teleq", 96, "rättat")


def test_a_200_kib_bomb_is_refused_by_its_compression_ratio():
    data = rebuilt(comment_bytes=200 << 20)
    assert len(data) < 250 << 10  # about 200 KiB on disk
    over = refused(data)
    assert (over.kind, over.part, over.allowed) == ("xlsx_ratio", SHEET, 100)
    assert over.found > 500


def test_a_part_the_parser_holds_whole_is_bounded_by_its_unpacked_size():
    strings = b"<sst>" + b"<si><t>x</t></si>" * 100_000 + b"</sst>"
    data = rebuilt({"xl/sharedStrings.xml": strings})
    over = refused(data, Limits(xlsx_part_bytes=1 << 20, xlsx_ratio=10_000))
    assert (over.kind, over.part, over.found) == (
        "xlsx_part_bytes",
        "xl/sharedStrings.xml",
        1_700_011,
    )
    # The worksheet itself has a bound of its own (it is streamed).
    over = refused(
        rebuilt(comment_bytes=3 << 20), Limits(xlsx_sheet_bytes=2 << 20, xlsx_ratio=10_000)
    )
    assert (over.kind, over.part) == ("xlsx_sheet_bytes", SHEET)


def test_an_archive_of_too_many_members_is_refused_before_its_directory_is_read():
    over = refused(rebuilt(extra_members=20), Limits(xlsx_members=20))
    assert (over.kind, over.found) == ("xlsx_members", 29)  # a workbook has 9 of its own


def test_an_end_record_that_understates_the_members_is_not_believed():
    data = bytearray(rebuilt(extra_members=300))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 5, 5)  # claims 5 members; its directory holds 309
    over = refused(bytes(data), Limits(xlsx_members=10))
    assert (over.kind, over.found) == ("xlsx_members", None)


@pytest.mark.parametrize(
    ("ref", "kind", "found"),
    [("A1:H2000001", "sheet_rows", 2_000_001), ("A1:CW2", "sheet_columns", 101)],
)
def test_a_sheet_declaring_too_many_rows_or_columns_is_refused_before_parsing(ref, kind, found):
    over = refused(with_dimension(ref))
    assert (over.kind, over.found) == (kind, found)


def test_a_sheet_that_understates_its_size_is_still_counted_while_read():
    rows = [[*ROW[:2], f"2022-{m:02d}", *ROW[3:]] for m in range(1, 6)]
    data = with_dimension("A1", rows)
    check_xlsx(io.BytesIO(data), Limits(rows=4))  # the dimension says one cell
    with pytest.raises(OverLimit) as over:
        list(read_measurements(io.BytesIO(data), "m.xlsx", Limits(rows=4)))
    assert (over.value.kind, over.value.row) == ("rows", 5)


def test_what_is_not_a_zip_archive_is_left_to_the_workbook_reader():
    check_xlsx(io.BytesIO(b"PK\x03\x04 not really"), Limits())


# ------------------------------------------------------------- the message people read


def test_a_bomb_is_refused_with_a_swedish_message_naming_the_limit(nara):
    with pytest.raises(ImportRejected) as rejected:
        import_measurements(fileobj=io.BytesIO(rebuilt(comment_bytes=20 << 20)), filename="b.xlsx")
    [error] = rejected.value.errors
    assert error.message.startswith("Excelfilen packas upp till ")
    assert "gånger sin storlek (gränsen är 100); så packas bara en zip-bomb" in error.message
    assert rejected.value.record.error_count == 1


# ---------------------------------------------------------- through the worker, measured


def peak_rss_of_children(worker_pid: int, until) -> int:
    """The highest VmHWM (peak resident memory, bytes) of the worker's pool processes, read
    every 20 ms until `until()` is true."""
    peak = 0
    while not until():
        children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()
        for child in children:
            try:
                status = Path(f"/proc/{child}/status").read_text()
            except FileNotFoundError:
                continue  # the child finished and was replaced
            found = re.search(r"VmHWM:\s+(\d+) kB", status)
            if found:  # not while it exits (a zombie has no memory left)
                peak = max(peak, int(found.group(1)) * 1024)
        time.sleep(0.02)
    return peak


def test_a_bomb_sent_to_the_worker_costs_it_no_memory(worker, cast, tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(rebuilt(comment_bytes=200 << 20))
    api = APIClient()
    api.force_authenticate(cast["manager"])
    with path.open("rb") as handle:
        sent = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
    assert sent.status_code == 202, sent.content
    pk = sent.json()["id"]

    def finished() -> bool:
        return wait_for(pk, lambda r: True).status not in ("queued", "running")

    peak = peak_rss_of_children(worker.process.pid, finished)
    record = wait_for(pk)
    assert record.status == "failed"
    assert "zip-bomb" in record.errors[0]["message"]
    print(
        f"\nworker child peak RSS with a {path.stat().st_size:,} byte bomb: {peak / 2**20:.0f} MiB"
    )
    # A worker child with Django loaded stays near 100 MiB; parsing the bomb took 450+.
    assert peak < 200 * 2**20
