"""Set-based writes for imports and recompute: rows are staged in a temporary table, then
merged with a few SQL statements instead of one ORM round trip per row.

One code path for both databases. They differ only in how rows reach the staging table:
PostgreSQL takes them by COPY (about 20 times faster than INSERT: it is what makes a million-
row import take seconds), SQLite (the embedded demo database) by executemany; and in one
operator (`IS DISTINCT FROM` / `IS NOT`). The merge statements are the same text on both.

Private to the indicators app (callers: indicators.imports.run and indicators.recompute), but
for in_background, which the synthetic loader (demo.synthetic) uses too.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction

from .models import Aggregate

MEASUREMENT_STAGE = "styrkort_measurement_stage"
ASSESSMENT_STAGE = "styrkort_assessment_stage"
# Columns of a measurement row as the reader produces it: the measurement table's own, so
# that one line serves COPY into the table itself and into the staging table.
MEASUREMENT_COLUMNS = (
    "indicator_id",
    "org_unit_id",
    "period",
    "breakdown",
    "value",
    "numerator",
    "denominator",
    "comment",
    "source_row",
    "source_import_id",
    "entered_by_id",
    "updated_at",
)
ASSESSMENT_COLUMNS = (
    "indicator_id",
    "org_unit_id",
    "period",
    "placement_id",
    "computed_status",
    "trend",
    "details",
    "computed_at",
    "override_status",
    "override_comment",
    "analysis",
)


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _distinct() -> str:
    """Null-safe inequality: SQLite spells it `IS NOT` (IS DISTINCT FROM needs 3.39+)."""
    return "IS DISTINCT FROM" if is_postgresql() else "IS NOT"


# --------------------------------------------------------------------------- COPY text


def copy_text(value: str) -> str:
    """A text field in COPY's text format."""
    # str.replace, not str.translate: translate with a dict costs ten times as much, and
    # details JSON holds backslashes (\u00e4) in most rows.
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def copy_number(value: Decimal | None) -> str:
    return "\\N" if value is None else str(value)


def measurement_line(
    indicator_id: int,
    unit_id: int,
    period: str,
    breakdown: str,
    value: Decimal,
    numerator: Decimal | None,
    denominator: Decimal | None,
    comment: str,
    row: int,
    tail: str,
) -> str:
    """One measurement as a COPY line (PostgreSQL); `tail` holds the columns every row of
    an import shares (see line_tail)."""
    return (
        f"{indicator_id}\t{unit_id}\t{period}\t{copy_text(breakdown)}\t{value}\t"
        f"{copy_number(numerator)}\t{copy_number(denominator)}\t{copy_text(comment)}\t{row}"
        f"{tail}"
    )


def line_tail(*, import_id: int, user_id: int | None, now: datetime) -> str:
    user = "\\N" if user_id is None else str(user_id)
    return f"\t{import_id}\t{user}\t{now.isoformat()}\n"


def row_tail(*, import_id: int, user_id: int | None, now: datetime) -> tuple:
    """The shared columns as parameters (SQLite)."""
    return (import_id, user_id, connection.ops.adapt_datetimefield_value(now))


# --------------------------------------------------------------------------- bulk loads


@contextmanager
def built_at_the_end(*models) -> Iterator[None]:
    """A bulk load of millions of new rows (the synthetic data set): the tables' foreign
    keys are checked once, by one join each, rather than by a trigger per row at commit,
    and their secondary indexes are built once from the loaded rows, rather than kept up
    row by row (a third of the time of inserting 5 M measurements).

    PostgreSQL: the keys and the indexes that are neither unique nor primary are dropped
    for the block and created again after it from their own definitions. Adding a key
    validates every row, so a row pointing nowhere still fails the load (and the
    transaction puts everything back); unique indexes stay, and the block's queries can use
    them. Takes the tables' exclusive lock for the rest of the transaction: for maintenance
    loads, never for imports. Must run inside a transaction. Elsewhere it does nothing.
    """
    if not is_postgresql():
        yield
        return
    assert connection.in_atomic_block, "the keys are dropped for one transaction only"
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)"
            " ORDER BY 1, 2",
            [tables],
        )
        keys = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid::regclass::text = ANY(%s) AND NOT indisunique AND NOT indisprimary"
            " ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        # Dropping or adding a key alters both tables, and a table with pending trigger
        # events (rows this transaction wrote before) cannot be altered: check those now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, _definition in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, definition in keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# --------------------------------------------------------------------------- staging


def _create_stage(name: str, columns_sql: str) -> None:
    # A session's temporary table, created once and emptied before each use: creating and
    # dropping one per import or per recompute would churn the catalogue.
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns_sql})")
        cursor.execute(f"TRUNCATE {name}" if is_postgresql() else f"DELETE FROM {name}")


def _load(name: str, columns: Sequence[str], data: str | list[tuple]) -> None:
    """Append rows to a table: COPY text on PostgreSQL, parameter tuples on SQLite."""
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if is_postgresql():
            assert isinstance(data, str)
            with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(data)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({placeholders})", data
            )


def _copy_if_all_new(table: str, columns: Sequence[str], data: str | list[tuple]) -> bool:
    """PostgreSQL: COPY rows straight into `table` when none of them exists yet.

    The fast path of a first import (a new period, a year of history): COPY costs half of
    staging and merging. A row that exists already breaks the COPY on the unique key; the
    savepoint then undoes the chunk, and False sends the caller to the staging path.
    """
    if not is_postgresql():
        return False
    try:
        with transaction.atomic():
            _load(table, columns, data)
    except IntegrityError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        return False
    return True


UNIQUE_VIOLATION = "23505"


@dataclass
class ChunkCounts:
    created: int = 0
    changed: int = 0
    unchanged: int = 0


class MeasurementStage:
    """Merges rows into indicators_measurement, keeping replaced values as history.

    Per chunk: COPY straight into the table while no row exists yet; otherwise stage the
    chunk, classify each row against the table (new, changed, unchanged) with one join, write
    the history of the changed rows, update them and insert the new ones.
    """

    def __init__(self) -> None:
        _create_stage(
            MEASUREMENT_STAGE,
            "indicator_id bigint NOT NULL, org_unit_id bigint NOT NULL,"
            " period varchar(7) NOT NULL, breakdown varchar(64) NOT NULL,"
            " value numeric(20, 6) NOT NULL, numerator numeric(20, 6),"
            " denominator numeric(20, 6), comment text NOT NULL, source_row integer NOT NULL,"
            " source_import_id bigint NOT NULL, entered_by_id integer,"
            f" updated_at {'timestamptz' if is_postgresql() else 'datetime'} NOT NULL,"
            # Filled by classify(): the existing row, and 1 = changed, 0 = unchanged.
            " measurement_id bigint, state smallint",
        )
        self.direct = is_postgresql()  # until a chunk meets an existing row
        self._analysed = False
        if is_postgresql():
            with connection.cursor() as cursor:
                # Foreign keys are deferred to COMMIT by Django; checked per statement instead,
                # the check runs while the reader thread parses the next chunk, not all at
                # the end (a third of the time of a large import). The keys by name, not
                # ALL: the data version's trigger stays at COMMIT (dashboard/page_cache.py),
                # where it locks its row for an instant rather than for the whole import.
                cursor.execute(
                    "SELECT string_agg(quote_ident(conname), ', ') FROM pg_constraint"
                    " WHERE contype = 'f' AND condeferrable"
                    " AND connamespace = current_schema()::regnamespace"
                )
                (names,) = cursor.fetchone()
                if names:
                    cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")

    def insert_if_all_new(self, data: str | list[tuple]) -> bool:
        """Write a chunk of rows none of which exists yet, or return False and write nothing."""
        if not self.direct:
            return False
        self.direct = _copy_if_all_new("indicators_measurement", MEASUREMENT_COLUMNS, data)
        return self.direct

    def load(self, data: str | list[tuple]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"TRUNCATE {MEASUREMENT_STAGE}"
                if is_postgresql()
                else f"DELETE FROM {MEASUREMENT_STAGE}"
            )
        _load(MEASUREMENT_STAGE, MEASUREMENT_COLUMNS, data)
        if is_postgresql() and not self._analysed:
            with connection.cursor() as cursor:
                # Statistics let the planner probe the measurement index per staged row
                # instead of hashing the whole measurement table. One chunk is like the next.
                cursor.execute(f"ANALYZE {MEASUREMENT_STAGE}")
            self._analysed = True

    def classify(self) -> ChunkCounts:
        distinct = _distinct()
        s = MEASUREMENT_STAGE
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {s} SET measurement_id = m.id, state = CASE WHEN"
                f" m.value <> {s}.value OR m.numerator {distinct} {s}.numerator"
                f" OR m.denominator {distinct} {s}.denominator OR m.comment <> {s}.comment"
                " THEN 1 ELSE 0 END"
                " FROM indicators_measurement AS m"
                f" WHERE m.indicator_id = {s}.indicator_id AND m.org_unit_id = {s}.org_unit_id"
                f" AND m.period = {s}.period AND m.breakdown = {s}.breakdown"
            )
            cursor.execute(
                "SELECT COUNT(*), SUM(CASE WHEN measurement_id IS NULL THEN 1 ELSE 0 END),"
                f" SUM(CASE WHEN state = 1 THEN 1 ELSE 0 END) FROM {s}"
            )
            total, created, changed = cursor.fetchone()
        created, changed = created or 0, changed or 0
        return ChunkCounts(created=created, changed=changed, unchanged=total - created - changed)

    def sample_changed(self, limit: int) -> list[tuple]:
        """(row, indicator id, unit id, period, breakdown, old value, new value, old comment,
        new comment) of the first changed rows."""
        s = MEASUREMENT_STAGE
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {s}.source_row, {s}.indicator_id, {s}.org_unit_id, {s}.period,"
                f" {s}.breakdown, m.value, {s}.value, m.comment, {s}.comment FROM {s}"
                f" JOIN indicators_measurement AS m ON m.id = {s}.measurement_id"
                f" WHERE {s}.state = 1 ORDER BY {s}.source_row LIMIT %s",
                [limit],
            )
            return cursor.fetchall()

    def sample_created(self, limit: int) -> list[tuple]:
        """(row, indicator id, unit id, period, breakdown, value, comment) of the first new rows."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT source_row, indicator_id, org_unit_id, period, breakdown, value, comment"
                f" FROM {MEASUREMENT_STAGE} WHERE measurement_id IS NULL"
                " ORDER BY source_row LIMIT %s",
                [limit],
            )
            return cursor.fetchall()

    def merge(self, *, import_id: int, now: datetime) -> set[tuple[int, int]]:
        """Write the classified chunk; returns the (indicator, org unit) pairs it changed."""
        s = MEASUREMENT_STAGE
        columns = ", ".join(MEASUREMENT_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO indicators_measurementrevision (measurement_id, value, numerator,"
                " denominator, comment, source_import_id, source_row, entered_by_id, valid_from,"
                " replaced_at, replaced_by_import_id)"
                " SELECT m.id, m.value, m.numerator, m.denominator, m.comment,"
                " m.source_import_id, m.source_row, m.entered_by_id, m.updated_at, %s, %s"
                f" FROM {s} JOIN indicators_measurement AS m ON m.id = {s}.measurement_id"
                f" WHERE {s}.state = 1",
                [connection.ops.adapt_datetimefield_value(now), import_id],
            )
            cursor.execute(
                "UPDATE indicators_measurement SET value = s.value, numerator = s.numerator,"
                " denominator = s.denominator, comment = s.comment,"
                " source_import_id = s.source_import_id, source_row = s.source_row,"
                " entered_by_id = s.entered_by_id, updated_at = s.updated_at"
                f" FROM {s} AS s WHERE indicators_measurement.id = s.measurement_id"
                " AND s.state = 1"
            )
            cursor.execute(
                f"INSERT INTO indicators_measurement ({columns}) SELECT {columns} FROM {s}"
                " WHERE measurement_id IS NULL"
            )
            cursor.execute(
                f"SELECT DISTINCT indicator_id, org_unit_id FROM {s}"
                " WHERE measurement_id IS NULL OR state = 1"
            )
            return set(cursor.fetchall())

    def merged_periods(self) -> set[tuple[int, str]]:
        """The (indicator, period) keys of the rows merge() wrote."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT indicator_id, period FROM {MEASUREMENT_STAGE}"
                " WHERE measurement_id IS NULL OR state = 1"
            )
            return set(cursor.fetchall())


class AssessmentBatch:
    """Assessment rows in the form the database takes them: COPY text (PostgreSQL) or
    parameter tuples (SQLite). Filled by the thread that computes them (no database access
    there: the constant columns are worked out here, in the writing thread)."""

    def __init__(self, *, now: datetime) -> None:
        self.copy = is_postgresql()
        adapted = connection.ops.adapt_datetimefield_value(now)
        self._tail: Any = f"\t{now.isoformat()}\t\t\t\n" if self.copy else (adapted, "", "", "")
        self.parts: list[Any] = []
        self.count = 0

    def new(self) -> AssessmentBatch:
        batch = object.__new__(AssessmentBatch)
        batch.copy, batch._tail, batch.parts, batch.count = self.copy, self._tail, [], 0
        return batch

    def add(
        self,
        indicator_id: int,
        unit_id: int,
        period: str,
        placement_id: int,
        status: str,
        trend: str,
        details: str,
    ) -> None:
        if self.copy:
            self.parts.append(
                f"{indicator_id}\t{unit_id}\t{period}\t{placement_id}\t{status}\t{trend}\t"
                f"{copy_text(details)}{self._tail}"
            )
        else:
            self.parts.append(
                (indicator_id, unit_id, period, placement_id, status, trend, details, *self._tail)
            )
        self.count += 1

    @property
    def data(self) -> str | list[tuple]:
        return "".join(self.parts) if self.copy else self.parts


def upsert_assessments(batch: AssessmentBatch) -> None:
    """Insert or update assessments; details are JSON text.

    Overrides, their comments and the analysis are the manager's and are left alone.
    """
    if not batch.count:
        return
    data = batch.data
    if _copy_if_all_new("indicators_assessment", ASSESSMENT_COLUMNS, data):
        return
    _create_stage(
        ASSESSMENT_STAGE,
        "indicator_id bigint NOT NULL, org_unit_id bigint NOT NULL, period varchar(7) NOT NULL,"
        " placement_id bigint NOT NULL, computed_status varchar(16) NOT NULL,"
        " trend varchar(16) NOT NULL,"
        f" details {'jsonb' if is_postgresql() else 'text'} NOT NULL,"
        f" computed_at {'timestamptz' if is_postgresql() else 'datetime'} NOT NULL,"
        " override_status varchar(16) NOT NULL, override_comment text NOT NULL,"
        " analysis text NOT NULL",
    )
    _load(ASSESSMENT_STAGE, ASSESSMENT_COLUMNS, data)
    columns = ", ".join(ASSESSMENT_COLUMNS)
    with connection.cursor() as cursor:
        # "WHERE true": SQLite needs it to tell the upsert's ON from a join's ON.
        cursor.execute(
            f"INSERT INTO indicators_assessment ({columns})"
            f" SELECT {columns} FROM {ASSESSMENT_STAGE} WHERE true"
            " ON CONFLICT (indicator_id, org_unit_id, period) DO UPDATE SET"
            " placement_id = excluded.placement_id,"
            " computed_status = excluded.computed_status, trend = excluded.trend,"
            " details = excluded.details, computed_at = excluded.computed_at"
        )


AGGREGATE_COLUMNS = (
    "indicator_id",
    "org_unit_id",
    "period",
    "breakdown",
    "value",
    "numerator",
    "denominator",
    "covered",
    "expected",
    "missing_units",
    "computed_at",
)


def insert_aggregates(rows: Sequence[tuple], *, now: datetime) -> None:
    """Insert new roll-ups, tuples in AGGREGATE_COLUMNS' order without computed_at (the
    caller has removed the ones they replace): COPY on PostgreSQL, where Django's
    bulk_create spent more time building its INSERT than the database storing it."""
    if not rows:
        return
    if not is_postgresql():
        Aggregate.objects.bulk_create(
            [Aggregate(**dict(zip(AGGREGATE_COLUMNS, (*row, now), strict=True))) for row in rows],
            batch_size=5000,
        )
        return
    tail = f"\t{now.isoformat()}\n"
    for start in range(0, len(rows), AGGREGATE_BATCH):
        _load(
            "indicators_aggregate",
            AGGREGATE_COLUMNS,
            "".join(
                f"{indicator_id}\t{unit_id}\t{period}\t{copy_text(breakdown)}\t{value}\t"
                f"{copy_number(numerator)}\t{copy_number(denominator)}\t{covered}\t"
                f"{expected}\t{copy_text(json.dumps(missing))}{tail}"
                for (
                    indicator_id,
                    unit_id,
                    period,
                    breakdown,
                    value,
                    numerator,
                    denominator,
                    covered,
                    expected,
                    missing,
                ) in rows[start : start + AGGREGATE_BATCH]
            ),
        )


AGGREGATE_BATCH = 50_000


def serialise_imports() -> None:
    """Apply imports one at a time (PostgreSQL; SQLite has a single writer anyway).

    Two imports touching the same values at once would otherwise race on the unique key
    and recompute from each other's half-written state.
    """
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])


IMPORT_LOCK = 0x5354594B  # "STYK": the advisory lock key of measurement imports


# --------------------------------------------------------------------------- threads


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


def in_background[T](
    items: Iterable[T],
    *,
    depth: int = 2,
    name: str = "styrkort-bulk",
    stop: threading.Event | None = None,
) -> Iterator[T]:
    """Produce `items` in a thread, up to `depth` ahead of the consumer.

    The consumer mostly waits on the database server, which releases the GIL, so the CPU-
    bound producer (parsing a file) runs meanwhile: on two cores a large import takes about
    the longer of the two instead of their sum. The producer must not touch the database
    (Django's connections are per thread, and another one would not see this transaction).
    Exceptions in the producer are raised in the consumer. `stop` is set when the consumer
    stops early (an error, a time limit): a producer that works long between items should
    look at it, since it is waited for.
    """
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = stop or threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as error:  # handed to the consumer, who raises it
            slots.put(_Failed(error))

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                slots.get_nowait()
            except queue.Empty:
                thread.join(0.05)
