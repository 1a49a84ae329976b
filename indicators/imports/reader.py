"""Reading a measurement file: parse, validate, resolve codes to ids, find duplicates.

The reader runs in a thread beside the database work of indicators.imports.run and touches
only the file and the resolver's dicts.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.utils.translation import gettext as _

from divisions.access import writable_paths
from divisions.models import OrgUnit
from domain.exchange.format import FileRejected, Limits, MeasurementRow, OverLimit, RowError
from domain.exchange.reading import read_measurements
from domain.measurements import number_problems
from domain.messages import Message
from scorecard.closing import closed_lookup

from .. import bulk
from ..models import Indicator
from ..scorecards import PlacementIndex
from .models import MAX_STORED_ERRORS

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


Key = tuple[int, int, str, str]  # indicator id, org unit id, period, breakdown

# Rows per staged chunk: large enough that per-statement costs vanish, small enough that
# the first chunk (which nothing overlaps) is a small share of a large import.
STAGE_ROWS = 20_000
# numeric(20, 6): 14 digits before the decimal point.


class Resolver:
    """Turns parsed rows into database keys, or into row errors naming what is wrong.

    With a user, rows for org units outside what the user may write are refused (the
    command line, the inbox and the demo have no user: they act for the system).
    """

    def __init__(self, user: AbstractBaseUser | None = None) -> None:
        self.indicators = {
            code: (pk, frozenset(breakdowns))
            for code, pk, breakdowns in Indicator.objects.values_list("code", "pk", "breakdowns")
        }
        units = list(OrgUnit.objects.values_list("code", "pk", "path"))
        self.units = {code: pk for code, pk, _ in units}
        self.indicator_codes = {pk: code for code, (pk, _) in self.indicators.items()}
        self.unit_codes = {pk: code for code, pk, _ in units}
        self.unit_paths = {pk: path for _, pk, path in units}
        self.unit_by_path = {path: pk for _, pk, path in units}
        # A closed period refuses every row in the closed unit's subtree, whoever sends it.
        self.is_closed = closed_lookup()
        self.placements = PlacementIndex()
        self._placed: dict[tuple[int, int, str], bool] = {}
        if user is None:
            self.allowed: set[int] | None = None
        else:
            prefixes = writable_paths(user)
            self.allowed = {
                pk for _, pk, path in units if any(path.startswith(p) for p in prefixes)
            }

    def resolve(self, item: MeasurementRow) -> Key | list[RowError]:
        indicator = self.indicators.get(item.indicator)
        unit_id = self.units.get(item.org_unit)
        errors = []
        if indicator is None:
            message = Message(
                "unknown_indicator", "unknown indicator '{code}'", code=item.indicator
            )
            errors.append(RowError(item.row, "indicator", message))
        if unit_id is None:
            message = Message("unknown_org_unit", "unknown org unit '{code}'", code=item.org_unit)
            errors.append(RowError(item.row, "org_unit", message))
        elif self.allowed is not None and unit_id not in self.allowed:
            message = Message(
                "not_yours", "you may not change values of '{code}'", code=item.org_unit
            )
            errors.append(RowError(item.row, "org_unit", message))
        elif self.is_closed(self.unit_paths[unit_id], item.period):
            message = Message(
                "period_closed",
                "period {period} is closed for '{code}'",
                period=item.period,
                code=item.org_unit,
            )
            errors.append(RowError(item.row, "period", message))
        if errors:
            return errors
        indicator_id, breakdowns = indicator  # type: ignore[misc]
        if item.breakdown not in breakdowns:
            return [RowError(item.row, "breakdown", not_a_breakdown(item, sorted(breakdowns)))]
        if not self._on_a_scorecard(indicator_id, unit_id, item.period):
            message = Message(
                "not_placed",
                "{indicator} is not on the scorecard of '{code}' or of a unit above it in {year}",
                indicator=item.indicator,
                code=item.org_unit,
                year=item.period[:4],
            )
            return [RowError(item.row, "indicator", message)]
        problems = number_problems(
            value=item.value, numerator=item.numerator, denominator=item.denominator
        )
        if problems:
            return [RowError(item.row, name, message) for name, message in problems.items()]
        return (indicator_id, unit_id, item.period, item.breakdown)  # type: ignore[return-value]

    def _on_a_scorecard(self, indicator_id: int, unit_id: int, period: str) -> bool:
        key = (indicator_id, unit_id, period[:4])
        if key not in self._placed:
            codes = OrgUnit.codes_in(self.unit_paths[unit_id])[::-1]
            ancestry = [self.units[c] for c in codes]
            self._placed[key] = self.placements.placed_within(indicator_id, ancestry, int(key[2]))
        return self._placed[key]


def too_large(size: int, limit: int) -> Message:
    return Message(
        "file_too_large",
        "the file is {size:,} bytes; the limit is {limit:,} bytes",
        size=size,
        limit=limit,
    )


def not_a_breakdown(item: MeasurementRow, declared: list[str]) -> Message:
    return Message(
        "not_a_breakdown",
        "'{breakdown}' is not a breakdown of {indicator} (declared: {declared})",
        breakdown=item.breakdown,
        indicator=item.indicator,
        declared=", ".join(declared),
    )


@dataclass
class Chunk:
    data: str | list[tuple]  # COPY text (PostgreSQL) or parameter rows (SQLite)
    rows: int
    rows_read: int  # rows of the file read so far, for the progress bar
    pairs: set[tuple[int, int]]  # (indicator, org unit) of its rows
    periods: set[tuple[int, str]]  # (indicator, period) of its rows


class Reader:
    """One pass over the file: parse, validate, resolve, find duplicates, and cut the good
    rows into chunks ready for the staging table.

    Runs in a thread beside the database work (indicators.bulk.in_background): it touches
    only the file and the resolver's dicts. Keeps no rows, only one int per row to find
    duplicates (about 60 MB for a million rows).
    """

    def __init__(self, fileobj: BinaryIO, filename: str, resolver: Resolver) -> None:
        self.fileobj, self.filename, self.resolver = fileobj, filename, resolver
        self.errors: list[RowError] = []  # the first MAX_STORED_ERRORS
        self.error_count = 0  # all of them
        self.rejected = 0  # rows with at least one error
        self.rows_total = 0
        self.duplicate_keys: set[int] = set()
        self._last_rejected = 0
        self._names: dict[int, tuple[int, str]] = {}  # duplicate key -> (first row, codes)
        # Set when the import stops early (a time limit): reading ends within a few rows.
        self.stopped = threading.Event()
        self.unit_ids: set[int] = set()  # of the rows that resolved

    def reject(self, error: RowError) -> None:
        if error.row != self._last_rejected:
            self.rejected += 1
            self._last_rejected = error.row
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(error)

    def chunks(self, *, import_id: int, user_id: int | None, now: datetime) -> Iterator[Chunk]:
        """The good rows in chunks; once the file is known to be bad, chunks carry no rows
        (it is rejected) but reading goes on, to list every error."""
        copy = bulk.is_postgresql()
        line = bulk.measurement_line
        tail = (bulk.line_tail if copy else bulk.row_tail)(
            import_id=import_id, user_id=user_id, now=now
        )
        resolve = self.resolver.resolve
        seen: set[int] = set()
        periods: dict[str, int] = {}
        breakdowns: dict[str, int] = {}
        batch: list = []
        pairs: set[tuple[int, int]] = set()
        keys: set[tuple[int, str]] = set()
        last_row = 0
        stopped = self.stopped
        unit_ids = self.unit_ids
        for item in read_measurements(self.fileobj, self.filename, import_limits()):
            if item.row != last_row:
                self.rows_total += 1
                last_row = item.row
                if not self.rows_total & 1023 and stopped.is_set():
                    return
            if isinstance(item, RowError):
                self.reject(item)
                continue
            key = resolve(item)
            if isinstance(key, list):
                for error in key:
                    self.reject(error)
                continue
            indicator_id, unit_id, period, breakdown = key
            unit_ids.add(unit_id)
            # One int per row instead of a tuple of four: a fifth of the memory.
            period_no = periods.setdefault(period, len(periods))
            breakdown_no = breakdowns.setdefault(breakdown, len(breakdowns))
            compact = (((indicator_id << 32 | unit_id) << 24 | period_no) << 16) | breakdown_no
            if compact in seen:
                self.duplicate_keys.add(compact)
                # The first row is found by a second pass, only for a file that has any.
                self.reject(RowError(item.row, "", f"{_DUPLICATE_MARK}{compact}"))
                continue
            seen.add(compact)
            if self.errors:
                continue
            pairs.add((indicator_id, unit_id))
            keys.add((indicator_id, period))
            if copy:
                batch.append(
                    line(indicator_id, unit_id, period, breakdown, item.value, item.numerator,
                         item.denominator, item.comment, item.row, tail)
                )  # fmt: skip
            else:
                batch.append(
                    (indicator_id, unit_id, period, breakdown, item.value, item.numerator,
                     item.denominator, item.comment, item.row, *tail)
                )  # fmt: skip
            if len(batch) == STAGE_ROWS:
                data = "".join(batch) if copy else batch
                yield Chunk(data, len(batch), self.rows_total, pairs, keys)
                batch, pairs, keys = [], set(), set()
        if batch and not self.errors:
            data = "".join(batch) if copy else batch
            yield Chunk(data, len(batch), self.rows_total, pairs, keys)

    def org_unit_id(self) -> int | None:
        """The deepest org unit whose subtree holds every row read (None: no row resolved)."""
        paths = self.resolver.unit_paths
        common: list[str] | None = None
        for unit_id in self.unit_ids:
            codes = paths[unit_id].strip("/").split("/")
            if common is None:
                common = codes
                continue
            length = 0
            while length < min(len(common), len(codes)) and common[length] == codes[length]:
                length += 1
            common = common[:length]
        if not common:
            return None
        path = "/" + "".join(f"{code}/" for code in common)
        return self.resolver.unit_by_path.get(path)

    def name_duplicates(self) -> None:
        """Replace the duplicate markers by 'duplicates row N (...)': a second pass, made
        only for a file that has duplicates (it is rejected anyway)."""
        if not self.duplicate_keys:
            return
        periods: dict[str, int] = {}
        breakdowns: dict[str, int] = {}
        self.fileobj.seek(0)
        for item in read_measurements(self.fileobj, self.filename, import_limits()):
            if isinstance(item, RowError):
                continue
            key = self.resolver.resolve(item)
            if isinstance(key, list):
                continue
            indicator_id, unit_id, period, breakdown = key
            period_no = periods.setdefault(period, len(periods))
            breakdown_no = breakdowns.setdefault(breakdown, len(breakdowns))
            compact = (((indicator_id << 32 | unit_id) << 24 | period_no) << 16) | breakdown_no
            if compact in self.duplicate_keys and compact not in self._names:
                codes = f"{item.indicator}, {item.org_unit}, {item.period}, {item.breakdown}"
                self._names[compact] = (item.row, codes)
        for index, error in enumerate(self.errors):
            if error.message.startswith(_DUPLICATE_MARK):
                first, codes = self._names[int(error.message[len(_DUPLICATE_MARK) :])]
                message = Message(
                    "duplicate_row", "duplicates row {first} ({codes})", first=first, codes=codes
                )
                self.errors[index] = RowError(error.row, "", message)


_DUPLICATE_MARK = "\0duplicate:"


def digest(fileobj: BinaryIO) -> tuple[str, int, int]:
    """SHA-256, size and line count (the progress bar's estimate of the rows in a CSV file)."""
    fileobj.seek(0)
    hasher = hashlib.sha256()
    size = lines = 0
    for block in iter(lambda: fileobj.read(1 << 20), b""):
        hasher.update(block)
        size += len(block)
        lines += block.count(b"\n")
    fileobj.seek(0)
    return hasher.hexdigest(), size, lines


def row_estimate(fileobj: BinaryIO, lines: int) -> int:
    fileobj.seek(0)
    is_zip = fileobj.read(4) == b"PK\x03\x04"
    fileobj.seek(0)
    # Lines less the header; XLSX is compressed, so it has no estimate (the bar then counts).
    return 0 if is_zip else max(lines - 1, 0)


def import_limits() -> Limits:
    """What one file may hold, from the settings (STYRKORT_IMPORT_MAX_ROWS ...)."""
    return Limits(
        rows=settings.STYRKORT_IMPORT_MAX_ROWS,
        columns=settings.STYRKORT_IMPORT_MAX_COLUMNS,
        xlsx_members=settings.STYRKORT_IMPORT_XLSX_MAX_MEMBERS,
        xlsx_sheet_bytes=settings.STYRKORT_IMPORT_XLSX_MAX_SHEET_BYTES,
        xlsx_part_bytes=settings.STYRKORT_IMPORT_XLSX_MAX_PART_BYTES,
        xlsx_ratio=settings.STYRKORT_IMPORT_XLSX_MAX_RATIO,
    )


def rejection_errors(rejected: FileRejected) -> list[RowError]:
    """The errors of a refused file as people read them: a file over a limit is told which
    limit, in their language (the reader's own messages stay as they are)."""
    if not isinstance(rejected, OverLimit):
        return rejected.errors
    return [RowError(rejected.row, "", over_limit_message(rejected))]


def over_limit_message(over: OverLimit) -> str:
    values = {
        "allowed": _grouped(over.allowed),
        "found": _grouped(over.found) if over.found is not None else "",
        "part": over.part,
    }
    if over.kind == "rows":
        message = _("Filen har fler än %(allowed)s rader (gränsen); dela upp den i flera filer.")
    elif over.kind == "columns":
        message = _("Raden har %(found)s kolumner; gränsen är %(allowed)s.")
    elif over.kind == "sheet_rows":
        message = _(
            "Excelbladet har %(found)s rader enligt filen; gränsen är %(allowed)s. Dela upp "
            "den i flera filer."
        )
    elif over.kind == "sheet_columns":
        message = _("Excelbladet har %(found)s kolumner enligt filen; gränsen är %(allowed)s.")
    elif over.kind == "xlsx_members" and over.found is None:
        message = _(
            "Excelfilen består av fler än %(allowed)s delar (gränsen) och läses inte. Spara "
            "den på nytt från Excel, eller som CSV."
        )
    elif over.kind == "xlsx_members":
        message = _(
            "Excelfilen består av %(found)s delar; gränsen är %(allowed)s. Spara den på nytt "
            "från Excel, eller som CSV."
        )
    elif over.kind == "xlsx_ratio":
        message = _(
            "Excelfilen packas upp till %(found)s gånger sin storlek (gränsen är "
            "%(allowed)s); så packas bara en zip-bomb, och den läses inte. Spara den på "
            "nytt från Excel, eller som CSV."
        )
    else:  # xlsx_sheet_bytes, xlsx_part_bytes
        message = _(
            "Delen %(part)s av Excelfilen packas upp till %(found)s byte; gränsen är "
            "%(allowed)s byte. Dela upp filen, eller spara den som CSV."
        )
    return message % values


def _grouped(number: int) -> str:
    return f"{number:,}".replace(",", " ")
