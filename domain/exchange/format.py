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


def format_decimal(number: Decimal) -> str:
    """`92.5`, `100`, `0.001` (domain.numbers), refusing what no file can carry."""
    if not number.is_finite():
        raise ValueError(f"{number} cannot be written as a measurement")
    return plain_decimal(number)
