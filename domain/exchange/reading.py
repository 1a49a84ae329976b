"""Bytes of an exchange file to validated rows, or exact row/column errors.

Files come out of Swedish Excel (`;` delimiter, decimal comma, `%`, space as thousands
separator, Windows-1252) and can be 50+ MB, so everything streams: memory stays flat.
"""

from __future__ import annotations

import codecs
import csv
import math
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import chain
from typing import TYPE_CHECKING, BinaryIO

from domain.exchange.archive import check_xlsx
from domain.exchange.cells import (
    BREAKDOWN_ALIASES,
    CONVERTERS,
    MAX_CELL_CHARACTERS,
    PERIOD_CODES,
    PLAIN_NUMBER_RE,
    CellError,
    clean_text,
)
from domain.exchange.format import (
    HEADER,
    REQUIRED,
    FileRejected,
    Limits,
    MeasurementRow,
    OverLimit,
    RowError,
)
from domain.measurements import number_problems
from domain.messages import Message

if TYPE_CHECKING:
    from openpyxl import Workbook

DEFAULT_LIMITS = Limits()
# Enough to tell UTF-8 from Windows-1252 on real files without reading the whole file.
_PREFIX_SIZE = 1 << 20
_CHUNK_SIZE = 1 << 16
_ZIP_MAGIC = b"PK\x03\x04"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Old binary .xls, and also password-protected .xlsx (an encrypted OLE container).
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_NOT_TEXT = Message(
    "not_text", "the file is not a text file; upload CSV (UTF-8 or Windows-1252) or XLSX"
)
_BAD_UTF8 = Message(
    "bad_utf8", "invalid UTF-8 byte; save the file as UTF-8 or Windows-1252 throughout"
)
# Undecodable bytes become lone surrogates (surrogateescape), which valid text never contains.
_SUSPECT = re.compile("[\x00\udc80-\udcff]")


def read_measurements(
    fileobj: BinaryIO, filename: str, limits: Limits = DEFAULT_LIMITS
) -> Iterator[MeasurementRow | RowError]:
    """Validated rows, and one RowError per bad cell, in file order; blank rows are skipped.

    The header, and whether any data row follows it, are checked before this returns, so most
    FileRejected come from the call itself; see FileRejected for the rest. A file beyond
    `limits` raises OverLimit (a FileRejected) once that is known: an XLSX archive before it
    is parsed, a header at once, the row count when the row after the last allowed is read.
    CSV or XLSX is decided by content, not by extension: `filename` is only used in messages.
    """
    prefix = _read_up_to(fileobj, _PREFIX_SIZE)
    if prefix.startswith(_ZIP_MAGIC):
        records = _open_xlsx(fileobj, prefix, filename, limits)
    elif prefix.startswith(_OLE_MAGIC):
        message = Message(
            "old_xls",
            "{filename} is an old .xls file or a password-protected workbook; "
            "save it as .xlsx without a password, or as CSV",
            filename=repr(filename),
        )
        raise FileRejected([RowError(1, "", message)])
    elif prefix.startswith(_UTF16_BOMS):
        # Excel's "Unicode text" export; telling the user beats calling it binary.
        message = Message(
            "utf16", "the file is UTF-16 (Excel's Unicode text); save it as CSV UTF-8 or as XLSX"
        )
        raise FileRejected([RowError(1, "", message)])
    elif b"\x00" in prefix:
        raise FileRejected([RowError(1, "", _NOT_TEXT)])
    else:
        records = _open_csv(fileobj, prefix)

    header_row, columns = _read_header(records, limits)
    first = _next_data_record(records, limits.rows)
    if first is None:
        message = Message("no_rows", "the file has a header but no rows")
        raise FileRejected([RowError(header_row, "", message)])
    return _rows(chain([first], records), records, columns, limits.rows)


def _read_up_to(fileobj: BinaryIO, size: int) -> bytes:
    # read() on sockets and uploads may return less than asked for before the end.
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = fileobj.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


class _Records:
    """(row number, cells) pairs of a CSV or XLSX file, with what is needed to judge cells."""

    def __init__(
        self,
        pairs: Iterator[tuple[int, list[object]]],
        decoder: _Decoder | None = None,
        delimiter: str = "",
    ) -> None:
        self._pairs = pairs
        self.decoder = decoder  # None for XLSX: cells there are never undecodable bytes
        self.delimiter = delimiter

    def __iter__(self) -> Iterator[tuple[int, list[object]]]:
        return self._pairs

    def __next__(self) -> tuple[int, list[object]]:
        return next(self._pairs)

    def undecodable(self, row: int, cell: object) -> bool:
        """Whether a cell holds a byte that did not decode; raises if it is a binary file."""
        if type(cell) is str and cell.isascii() and "\x00" not in cell:
            return False  # the common case, checked first: this runs for every cell
        if self.decoder is None or not isinstance(cell, str) or not _SUSPECT.search(cell):
            return False
        # Text never holds NUL, and Windows-1252 leaves only 5 bytes undefined: binary data.
        if "\x00" in cell or not self.decoder.is_utf8:
            raise FileRejected([RowError(row, "", _NOT_TEXT)])
        return True


# --- CSV ---------------------------------------------------------------------------------


class _Decoder:
    """UTF-8 if the first chunk holding non-ASCII bytes is valid UTF-8, else Windows-1252.

    Deciding on the first non-ASCII chunk, rather than on the first bytes, keeps a big
    Windows-1252 export whose first megabyte is plain ASCII from being read as UTF-8: both
    agree on ASCII, so nothing decoded before the decision changes meaning. Bytes that do
    not decode become lone surrogates (surrogateescape) so the row holding them can be named.
    """

    def __init__(self) -> None:
        self.encoding: str | None = None  # None while everything so far was ASCII
        self._decoder: codecs.IncrementalDecoder | None = None
        self._at_start = True

    @property
    def is_utf8(self) -> bool:
        return self.encoding != "cp1252"

    def decode(self, data: bytes, final: bool) -> str:
        if self._decoder is None:
            at_start, self._at_start = self._at_start, False
            if data.isascii():
                return data.decode("ascii")
            try:
                codecs.getincrementaldecoder("utf-8")("strict").decode(data, final)
                # A BOM means something only at the very start of the file.
                self.encoding = "utf-8-sig" if at_start else "utf-8"
            except UnicodeDecodeError:
                self.encoding = "cp1252"
            self._decoder = codecs.getincrementaldecoder(self.encoding)("surrogateescape")
        return self._decoder.decode(data, final)


def _open_csv(fileobj: BinaryIO, prefix: bytes) -> _Records:
    decoder = _Decoder()

    def texts() -> Iterator[str]:
        data = prefix
        while data:
            following = _read_up_to(fileobj, _CHUNK_SIZE)
            yield decoder.decode(data, final=not following)
            data = following

    lines = _split_lines(texts())
    delimiter, lines = _sniff_delimiter(lines)
    return _Records(_csv_pairs(lines, delimiter), decoder, delimiter)


_LINE_END = re.compile(r"\r\n|\r|\n")


def _split_lines(texts: Iterable[str]) -> Iterator[str]:
    """Lines with their endings, cut at \\r\\n, \\n or a lone \\r (old Mac Excel).

    csv.reader takes the end of each string it is given as a line end, so decoded chunks must
    be cut into lines; str.splitlines would also cut at \\x0c, \\u2028 and such inside cells.
    """
    pending: list[str] = []  # joined once per line, so a very long line stays linear
    for text in texts:
        if pending and pending[-1].endswith("\r") and not text.startswith("\n"):
            yield "".join(pending)
            pending.clear()
        start = 0
        for match in _LINE_END.finditer(text):
            if match.end() == len(text) and match.group() == "\r":
                break  # the \n of this \r\n may begin the next chunk
            pending.append(text[start : match.end()])
            yield "".join(pending)
            pending.clear()
            start = match.end()
        if start < len(text):
            pending.append(text[start:])
    if pending:
        yield "".join(pending)


def _sniff_delimiter(lines: Iterator[str]) -> tuple[str, Iterator[str]]:
    """Pick `;`, `,` or tab, whichever the header line has most of (Swedish Excel: `;`).

    Only the header is looked at: data cells such as comments may hold any of them.
    """
    skipped: list[str] = []
    for line in lines:
        if line.strip(" \t;,\r\n\ufeff"):
            counts = {delimiter: line.count(delimiter) for delimiter in (";", ",", "\t")}
            best = max(counts, key=counts.__getitem__)
            return (best if counts[best] else ","), chain(skipped, [line], lines)
        skipped.append(line)  # blank lines above the header still count as rows
    return ",", iter(skipped)


def _csv_pairs(lines: Iterator[str], delimiter: str) -> Iterator[tuple[int, list[object]]]:
    # strict: an unclosed quote must fail loudly, not swallow the rest of the file into a cell.
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    row = 0  # records, not lines: a quoted cell with line breaks is still one Excel row
    while True:
        try:
            cells: list[object] = list(next(reader))
        except StopIteration:
            return
        except csv.Error as error:
            text = str(error)
            if "field larger than field limit" in text or "unexpected end of data" in text:
                message = Message(
                    "unclosed_quote", "a quoted cell is never closed (a '\"' is missing)"
                )
            elif "expected after" in text:
                message = Message(
                    "text_after_quote",
                    "a quoted cell goes on after its closing quote (double a '\"' inside)",
                )
            else:
                message = Message("not_csv", "cannot be read as CSV: {text}", text=text)
            raise FileRejected([RowError(row + 1, "", message)]) from None
        row += 1
        yield row, cells


# --- XLSX --------------------------------------------------------------------------------


def _open_xlsx(fileobj: BinaryIO, prefix: bytes, filename: str, limits: Limits) -> _Records:
    # Imported here: CSV-only callers and importing this module stay light.
    from openpyxl import load_workbook

    source: BinaryIO
    if _seekable(fileobj):
        fileobj.seek(fileobj.tell() - len(prefix))
        source = fileobj
    else:
        # zipfile has to seek; spool to disk rather than hold a 50 MB upload in memory.
        source = tempfile.SpooledTemporaryFile(max_size=_PREFIX_SIZE)  # noqa: SIM115
        source.write(prefix)
        shutil.copyfileobj(fileobj, source)
        source.seek(0)
    check_xlsx(source, limits)  # before the parser unpacks anything
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception:  # openpyxl raises a zoo of types for archives that are not workbooks
        message = Message(
            "not_xlsx",
            "{filename} is a ZIP archive but not a readable XLSX workbook",
            filename=repr(filename),
        )
        raise FileRejected([RowError(1, "", message)]) from None
    return _Records(_xlsx_pairs(workbook))


def _seekable(fileobj: BinaryIO) -> bool:
    try:
        return fileobj.seekable()
    except (AttributeError, OSError, ValueError):
        return False


def _xlsx_pairs(workbook: Workbook) -> Iterator[tuple[int, list[object]]]:
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]  # the first sheet, not whichever was active on save
        # The stored dimension is sometimes wrong, and would silently cut rows off.
        sheet.reset_dimensions()
        # openpyxl fills in rows missing from the XML, so counting gives Excel's row number.
        for row, cells in enumerate(sheet.iter_rows(), start=1):
            yield row, [_xlsx_value(cell) for cell in cells]
    finally:
        workbook.close()


def _xlsx_value(cell: object) -> object:
    value = getattr(cell, "value", None)
    # A cell showing "92,5 %" holds 0.925: take what the user sees, as a CSV export would.
    if (
        isinstance(value, int | float | Decimal)
        and not isinstance(value, bool)
        and "%" in (getattr(cell, "number_format", None) or "")
        and math.isfinite(value)
    ):
        return Decimal(str(value)).scaleb(2)
    return value


# --- rows --------------------------------------------------------------------------------


def _read_header(records: _Records, limits: Limits) -> tuple[int, dict[str, int]]:
    for row, cells in records:
        if row > limits.rows:
            raise OverLimit(row=row, kind="rows", allowed=limits.rows, found=None)
        if _is_blank(cells):
            continue
        used = len(cells)
        while used and clean_text(cells[used - 1]) == "":
            used -= 1  # Excel keeps empty columns that were once formatted
        if used > limits.columns:
            # One error that names the limit, not one per column name.
            raise OverLimit(row=row, kind="columns", allowed=limits.columns, found=used)
        for cell in cells:
            records.undecodable(row, cell)  # a binary file fails here, not as odd columns
        return row, _parse_header(row, cells)
    raise FileRejected([RowError(1, "", Message("file_empty", "the file is empty"))])


def _parse_header(row: int, cells: list[object]) -> dict[str, int]:
    written = [clean_text(cell).replace("\ufeff", "").strip() for cell in cells]
    while written and not written[-1]:
        written.pop()  # Excel keeps empty columns that were once formatted
    errors: list[RowError] = []
    columns: dict[str, int] = {}
    for index, text in enumerate(written):
        name = text.lower()
        if not name:
            message = Message("unnamed_column", "column {number} has no name", number=index + 1)
            errors.append(RowError(row, "", message))
        elif name not in HEADER:
            shown = _SUSPECT.sub("\ufffd", text)  # lone surrogates cannot be encoded for output
            message = Message(
                "unknown_column", "unknown column; allowed: {allowed}", allowed=", ".join(HEADER)
            )
            errors.append(RowError(row, shown, message))
        elif name in columns:
            errors.append(RowError(row, name, Message("duplicate_column", "duplicate column")))
        else:
            columns[name] = index
    for name in REQUIRED:
        if name not in columns:
            message = Message(
                "missing_column",
                "missing column; the header must contain {required}",
                required=", ".join(REQUIRED),
            )
            errors.append(RowError(row, name, message))
    if errors:
        raise FileRejected(errors)
    return columns


def _next_data_record(records: _Records, max_rows: int) -> tuple[int, list[object]] | None:
    for row, cells in records:
        if row > max_rows:
            raise OverLimit(row=row, kind="rows", allowed=max_rows, found=None)
        if not _is_blank(cells):
            return row, cells
    return None


def _is_blank(cells: list[object]) -> bool:
    return all(clean_text(cell) == "" for cell in cells)


def _rows(
    pairs: Iterator[tuple[int, list[object]]],
    records: _Records,
    columns: dict[str, int],
    max_rows: int,
) -> Iterator[MeasurementRow | RowError]:
    width = max(columns.values()) + 1
    # Worked out once per file, not per row: imports of a million rows live in this loop.
    plan = [(name, columns.get(name), CONVERTERS[name]) for name in HEADER]
    indexes = tuple(columns.get(name) for name in HEADER)
    for row, cells in pairs:
        if row > max_rows:
            raise OverLimit(row=row, kind="rows", allowed=max_rows, found=None)
        if _is_blank(cells):
            continue
        used = len(cells)
        while used > width and clean_text(cells[used - 1]) == "":
            used -= 1  # trailing empty cells are an Excel artefact, not data
        if used > width:
            # Checking the cells of a shifted row would only give confusing errors.
            if records.delimiter:
                message = Message(
                    "too_many_cells_quote",
                    "has {used} cells, header has {width}; quote cells that contain {delimiter}",
                    used=used,
                    width=width,
                    delimiter=repr(records.delimiter),
                )
            else:
                message = Message(
                    "too_many_cells", "has {used} cells, header has {width}", used=used, width=width
                )
            yield RowError(row, "", message)
            continue
        result = _plain_row(row, cells, indexes) or _validate_row(row, cells, plan, records)
        if type(result) is list:
            yield from result
        else:
            yield result  # type: ignore[misc]


def _plain_row(
    row: int, cells: list[object], indexes: tuple[int | None, ...]
) -> MeasurementRow | None:
    """The common row, read at a third of the cost, or None to take the general way.

    Only ASCII text cells whose numbers are plain (`92.5`, `92,5`, `-3`) and whose period
    has been seen before: for those, exactly what _validate_row gives. Anything else (an
    empty required cell, `29 191`, `%`, a new period, a bad denominator, XLSX values)
    returns None, and _validate_row decides with its full messages.
    """
    try:
        # Every column present (the usual CSV row): the eight cells checked at once.
        picked = [cells[index] for index in indexes]  # type: ignore[index]
        joined = "".join(picked)  # type: ignore[arg-type]
    except (TypeError, IndexError):  # a column missing or short, or XLSX values
        picked = None
    if picked is not None:
        if not joined.isascii() or "\x00" in joined:
            return None
        if len(joined) > MAX_CELL_CHARACTERS and max(map(len, picked)) > MAX_CELL_CHARACTERS:  # type: ignore[arg-type]
            return None  # _validate_row says so
        if any(type(cell) is not str for cell in picked):
            return None
        texts = [cell.strip() for cell in picked]  # type: ignore[union-attr]
    else:
        texts = []
        for index in indexes:
            cell = cells[index] if index is not None and index < len(cells) else ""
            if type(cell) is not str or not cell.isascii() or "\x00" in cell:
                return None
            if len(cell) > MAX_CELL_CHARACTERS:
                return None  # _validate_row says so
            texts.append(cell.strip())
    indicator, org_unit, period, breakdown, value, numerator, denominator, comment = texts
    code = PERIOD_CODES.get(period)
    if not indicator or not org_unit or code is None or not PLAIN_NUMBER_RE.fullmatch(value):
        return None
    if indicator.startswith("'") or org_unit.startswith("'") or comment.startswith("'"):
        return None  # maybe a quoted formula (see domain.spreadsheet): cells.py unquotes it
    breakdown = breakdown.lower()
    numbers: list[Decimal | None] = []
    for text in (numerator, denominator):
        if not text:
            numbers.append(None)
        elif PLAIN_NUMBER_RE.fullmatch(text):
            numbers.append(Decimal(text.replace(",", ".")))
        else:
            return None
    if numbers[1] is not None and numbers[1] <= 0:
        return None
    return MeasurementRow(
        row,
        indicator,
        org_unit,
        code,
        BREAKDOWN_ALIASES.get(breakdown, breakdown),
        Decimal(value.replace(",", ".")),
        numbers[0],
        numbers[1],
        comment,
    )


def _validate_row(
    row: int,
    cells: list[object],
    plan: list[tuple[str, int | None, Callable[[object], object]]],
    records: _Records,
) -> MeasurementRow | list[RowError]:
    errors: list[RowError] = []
    values: list[object] = []
    count = len(cells)
    for name, index, convert in plan:
        cell = cells[index] if index is not None and index < count else None
        if records.undecodable(row, cell):
            errors.append(RowError(row, name, _BAD_UTF8))
            values.append(None)
            continue
        try:
            values.append(convert(cell))
        except CellError as error:
            errors.append(RowError(row, name, error.args[0]))
            values.append(None)
    denominator = values[_DENOMINATOR]
    if denominator is not None:
        message = number_problems(denominator=denominator).get("denominator")
        if message:
            errors.append(RowError(row, "denominator", message))
    if errors:
        return errors
    return MeasurementRow(row, *values)  # type: ignore[arg-type]


_DENOMINATOR = HEADER.index("denominator")
