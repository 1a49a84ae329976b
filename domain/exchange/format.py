"""The exchange format's columns and the row and error types readers and writers share."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.numbers import plain_decimal

HEADER = (
    "indicator",
    "org_unit",
    "period",
    "breakdown",
    "value",
    "numerator",
    "denominator",
    "comment",
)
REQUIRED = ("indicator", "org_unit", "period", "value")


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based row as a spreadsheet user sees it (header = row 1)
    column: str  # column name, or "" for whole-row/file problems
    message: str

    def __str__(self) -> str:
        if self.column:
            return f"row {self.row}, column {self.column}: {self.message}"
        return f"row {self.row}: {self.message}"


@dataclass(frozen=True)
class MeasurementRow:
    row: int
    indicator: str
    org_unit: str
    period: str  # canonical Period code
    breakdown: str  # normalised: "total", "women", "men" or a lower-cased key
    value: Decimal
    numerator: Decimal | None
    denominator: Decimal | None
    comment: str


class FileRejected(Exception):
    """The file as a whole cannot be read (empty, wrong header, not CSV/XLSX, binary).

    Raised by read_measurements() itself for problems found at the start, and while
    iterating for problems found later (a NUL byte or an unclosed quote at row 40 000):
    callers must treat the rows they already got as void.
    """

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class Limits:
    """What one file may hold; a file beyond any of them is refused before or while it is
    read, so that neither memory, time nor the list of errors grows with a hostile file.

    `rows` counts rows as a spreadsheet numbers them (the header is row 1). The xlsx_
    bounds are checked on the ZIP archive before any of its XML is parsed: the parser holds
    every part but the worksheets whole in memory (`xlsx_part_bytes`), and streams the
    worksheets (`xlsx_sheet_bytes`, and the time limit of the import).
    """

    rows: int = 2_000_000
    columns: int = 100
    xlsx_members: int = 1_000
    xlsx_sheet_bytes: int = 512 << 20
    xlsx_part_bytes: int = 64 << 20
    xlsx_ratio: int = 100


class OverLimit(FileRejected):
    """The file exceeds one of the Limits.

    `kind` says which: rows, columns, sheet_rows, sheet_columns (an XLSX sheet's declared
    size), xlsx_members, xlsx_sheet_bytes, xlsx_part_bytes, xlsx_ratio. `allowed` is the
    limit, `found` what the file has (None: more than allowed, not counted further) and
    `part` the archive member concerned, if any. The message here is the plain fallback;
    the application words it for people.
    """

    def __init__(
        self, *, row: int, kind: str, allowed: int, found: int | None, part: str = ""
    ) -> None:
        self.row, self.kind, self.allowed, self.found, self.part = row, kind, allowed, found, part
        shown = f"more than {_grouped(allowed)}" if found is None else _grouped(found)
        where = f" ({part})" if part else ""
        message = f"{kind.replace('_', ' ')}{where}: {shown}; the limit is {_grouped(allowed)}"
        super().__init__([RowError(row, "", message)])


def _grouped(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def format_decimal(number: Decimal) -> str:
    """`92.5`, `100`, `0.001` (domain.numbers), refusing what no file can carry."""
    if not number.is_finite():
        raise ValueError(f"{number} cannot be written as a measurement")
    return plain_decimal(number)
