"""Rows to CSV in the exchange format, so that reading the file back gives equal rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import TextIO

from domain.exchange.format import HEADER, REQUIRED, MeasurementRow, format_decimal
from domain.spreadsheet import escape_formula


def write_measurements_csv(
    rows: Iterable[MeasurementRow | Mapping[str, object]], out: TextIO
) -> None:
    """Write rows in the exchange format, so that reading the file back gives equal rows.

    Comma delimiter, "." decimals. `out` decides the encoding: open it with
    encoding="utf-8" (or "utf-8-sig" for Excel) and newline="". Mappings are keyed by
    HEADER names; missing optional keys give empty cells and other keys are ignored.
    """
    for chunk in measurements_csv_chunks(rows):
        out.write(chunk)


def measurements_csv_chunks(
    rows: Iterable[MeasurementRow | Mapping[str, object]], rows_per_chunk: int = 1000
) -> Iterator[str]:
    """The same text as write_measurements_csv, a few rows at a time: a download can be
    sent while the rows are still being read, in memory that does not grow with them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    pending = 0
    for item in rows:
        if isinstance(item, MeasurementRow):
            values = [getattr(item, name) for name in HEADER]
        elif isinstance(item, Mapping):
            missing = [name for name in REQUIRED if name not in item]
            if missing:
                # An empty required cell would only surface at the next import.
                raise ValueError(f"{item!r} has no {', '.join(missing)}")
            values = [item.get(name) for name in HEADER]
        else:
            raise TypeError(f"cannot write {type(item).__name__} as a measurement row")
        writer.writerow([_export_cell(value) for value in values])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def _export_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError(f"{value!r} is not a measurement cell")
    if isinstance(value, float):
        value = Decimal(str(value))
    if isinstance(value, Decimal):
        return format_decimal(value)
    # Excel opening the file must not run a comment "=...": cells.py takes the quote off again.
    return escape_formula(str(value))
