"""A one-sheet XLSX written as it is read: rows in, a file out, memory flat in the row count.

openpyxl builds an object per cell, even in write-only mode: about 10,000 rows/s of eight
columns. An export needs nothing but values in a grid, so this writes the sheet's XML
directly into a zip member as the rows come (text as inline strings, numbers as numbers,
dates with a date format), at several times that rate. openpyxl, Excel and LibreOffice read
it; the importer reads it back (tests/api/test_formats.py).

Text goes through domain.spreadsheet.xml_safe and is always a string cell, never a formula.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import BinaryIO
from xml.sax.saxutils import escape

from domain.numbers import plain_decimal
from domain.spreadsheet import XML_ILLEGAL, xml_safe

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Cell styles: 0 general, 1 a date (built-in format 14), 2 a date and time (22), 3 a time (21).
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="21" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"
_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year quirk)
ROWS_PER_WRITE = 500


# Short texts repeat down a column (codes, periods, statuses): each is escaped once. Bounded,
# and emptied when full, so a sheet of unique texts does not grow it.
_TEXTS: dict[str, str] = {}
_SHORT = 64
_TEXTS_KEPT = 10_000


def _serial(value: datetime) -> str:
    delta = value - _EPOCH
    return repr(delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400)


# What escape() or xml_safe() would change. Most texts hold none of it: one scan proves them
# as they are (a long JSON text or a unique time was otherwise scanned four times).
_NEEDS_ESCAPE = re.compile(f"[&<>{XML_ILLEGAL}]")


def _text(value: str) -> str:
    """`value` escaped for the sheet, remembered when short (it will come again)."""
    text = _TEXTS.get(value)
    if text is None:
        text = value if _NEEDS_ESCAPE.search(value) is None else escape(xml_safe(value))
        if len(value) <= _SHORT:
            if len(_TEXTS) >= _TEXTS_KEPT:
                _TEXTS.clear()
            _TEXTS[value] = text
    return text


# A cell's markup. Cells and rows carry no reference (`r="B7"`): SpreadsheetML places them
# in turn (Excel, LibreOffice and openpyxl alike), so an empty cell is an empty element.
ROW_START = "<row>"
ROW_END = "</row>"
EMPTY_CELL = "<c/>"
TEXT_CELL_START = '<c t="inlineStr"><is><t xml:space="preserve">'
TEXT_CELL_END = "</t></is></c>"
NUMBER_CELL_START = "<c><v>"
NUMBER_CELL_END = "</v></c>"


def _cell(value: object) -> str:
    if value is None or value == "":
        return EMPTY_CELL
    if isinstance(value, str):
        return f"{TEXT_CELL_START}{_text(value)}{TEXT_CELL_END}"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f"{NUMBER_CELL_START}{value}{NUMBER_CELL_END}"
    if isinstance(value, Decimal):
        if not value.is_finite():
            return _cell(str(value))
        return f"{NUMBER_CELL_START}{plain_decimal(value)}{NUMBER_CELL_END}"
    if isinstance(value, float):
        return f"{NUMBER_CELL_START}{value!r}{NUMBER_CELL_END}"
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # Excel has no time zones: the time as written, in UTC
            value = value.astimezone(UTC).replace(tzinfo=None)
        return f'<c s="2"><v>{_serial(value)}</v></c>'
    if isinstance(value, date):
        return f'<c s="1"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return f'<c s="3"><v>{seconds / 86400!r}</v></c>'
    return _cell(str(value))


def write_xlsx(
    out: BinaryIO, columns: Sequence[str], rows: Iterable[Sequence[object]], sheet: str = "export"
) -> None:
    """Write a workbook of one sheet: `columns` as its first row, then `rows` (sequences of
    values in the order of the columns) as they come."""
    write_sheet_xml(out, columns, map(row_xml, rows), sheet=sheet)


def write_sheet_xml(
    out: BinaryIO, columns: Sequence[str], rows: Iterable[str], sheet: str = "export"
) -> None:
    """Write a workbook of one sheet: `columns` as its first row, then `rows`, each already
    the `<row>` element row_xml makes (a database may write them: api.copy_csv.sheet_xml)."""
    name = escape(xml_safe(sheet[:31] or "export"), {'"': "&quot;"})
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK.format(name=name))
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(_SHEET_START.encode())
            pending = [row_xml(columns)]
            for row in rows:
                pending.append(row)
                if len(pending) >= ROWS_PER_WRITE:
                    member.write("".join(pending).encode())
                    pending = []
            pending.append(_SHEET_END)
            member.write("".join(pending).encode())


def row_xml(values: Sequence[object]) -> str:
    """One row of the sheet: a cell per value, in turn, an empty one for None or ""."""
    # Most cells are text, whole numbers or empty: written here without a call to _cell
    # (profiled, those calls were a fifth of the time of an assessments export).
    # A text seen before is looked up here, not through _text.
    cells = [ROW_START]
    add = cells.append
    known = _TEXTS.get
    for value in values:
        kind = type(value)
        if kind is str:
            if value:
                text = known(value)
                if text is None:
                    text = _text(value)
                add(f"{TEXT_CELL_START}{text}{TEXT_CELL_END}")
            else:
                add(EMPTY_CELL)
        elif kind is int:
            add(f"{NUMBER_CELL_START}{value}{NUMBER_CELL_END}")
        elif value is None:
            add(EMPTY_CELL)
        else:
            add(_cell(value))
    add(ROW_END)
    return "".join(cells)
