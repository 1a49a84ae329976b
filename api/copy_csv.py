"""CSV exports written by PostgreSQL (`COPY ... TO STDOUT`), for the large tables.

The generic writer (api.renderers.csv_chunks) turns each row into Python objects and back
into text: about 10,000 rows/s. Here the database formats the cells and the rows reach the
response as bytes, at several times that rate, in memory that does not depend on the row
count. The cells are the ones the generic writer gives: the same columns, numbers without
trailing zeros (domain.numbers.plain_decimal), times in ISO 8601 in the site's time zone,
JSON as json.dumps writes it, and text that a spreadsheet would run as a formula escaped
as domain.spreadsheet.escape_formula does (tests/api/test_copy_csv.py reads both back).

`sheet_xml` gives the same cells to an XLSX export as the sheet's rows of XML (numbers as
numbers, text as it is: a sheet's text cell is never a formula).

On SQLite (the demo) both return None and the generic writers are used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.expressions import Combinable
from django.utils import timezone

from domain.spreadsheet import NEGATIVE_NUMBER_PATTERN
from domain.xlsx import (
    EMPTY_CELL,
    NUMBER_CELL_END,
    NUMBER_CELL_START,
    ROW_END,
    ROW_START,
    TEXT_CELL_END,
    TEXT_CELL_START,
)

# The cell kinds, as SQL over a column `c`.
TEXT, INTEGER, DECIMAL, JSON, TIMESTAMP = "text", "integer", "decimal", "json", "timestamp"

# domain.spreadsheet.runs_as_formula, in PostgreSQL's regular expressions: after any leading
# quotes, a formula start, or a `-` that is not a whole negative number (the same pattern:
# its escapes read alike in both dialects; `%` doubled for the driver).
_NEGATIVE = NEGATIVE_NUMBER_PATTERN.replace("(?:", "(").replace("%", "%%")
_FORMULA = (
    "(ltrim({c}, '''') ~ '^[=+@\\t\\r]' OR (ltrim({c}, '''') ~ '^-.' AND "
    "ltrim({c}, '''') !~ '^" + _NEGATIVE + "$'))"
)
# Most cells (codes, periods, statuses) start with none of those characters: one cheap
# anchored match passes them before the full rule (a fifth of an assessments CSV's time).
_TEXT = (
    "CASE WHEN {c} !~ '^''*[-=+@\\t\\r]' THEN {c} WHEN " + _FORMULA + " THEN '''' || {c} "
    "ELSE {c} END"
)
# isoformat() in the site's zone: microseconds only when there are any; the offset as
# +HH:MM, UTC as Z. to_char writes the session's zone: the statement runs in the site's
# (in_site_zone). With `AT TIME ZONE` per part, the cell cost 3x the whole row's output.
_TIMESTAMP = (
    "to_char({c}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
    "CASE WHEN date_part('microseconds', {c})::int %% 1000000 <> 0 "
    "THEN to_char({c}, '.US') ELSE '' END || "
    "replace(to_char({c}, 'TZH:TZM'), '+00:00', 'Z')"
)
# domain.numbers.plain_decimal: "92.5", "100", no trailing zeros, never an exponent.
_PLAIN_DECIMAL = "trim_scale({c})::text"
_CELLS: dict[str, Callable[[str], str]] = {
    TEXT: lambda c: _TEXT.format(c=c),
    INTEGER: lambda c: f"{c}::text",
    DECIMAL: lambda c: _PLAIN_DECIMAL.format(c=c),
    JSON: lambda c: f"{c}::text",
    TIMESTAMP: lambda c: _TIMESTAMP.format(c=c),
}

CHUNK_BYTES = 64 * 1024


class PlainDecimalText(Func):
    """A number as the text a DECIMAL cell holds (domain.numbers.plain_decimal), for rows
    read outside COPY (api.values.serializers.measurement_rows). PostgreSQL only."""

    template = _PLAIN_DECIMAL.format(c="%(expressions)s")
    output_field = TextField()


@dataclass(frozen=True)
class Column:
    header: str
    source: str | Combinable  # a field path of the queryset, or an expression
    kind: str = TEXT


def _select(
    queryset: QuerySet,
    columns: Sequence[Column],
    cell: Callable[[Column, str], str],
    *,
    row: Callable[[str], str] | None = None,
):
    """SELECT of `cell(column, name)` (or of `row` of the cells) over the queryset's rows,
    and its parameters.

    The queryset's order (field names) goes on the outer SELECT, so PostgreSQL's parallel
    workers format the cells before the sort; ordered inside, one process formatted them
    after it. Both readers only pass the text on: an assessments CSV's statement went from
    220-250 to 190 ms, the sheet XML's from 1,670 to 1,230 ms (44,160 rows, a slower machine).
    """
    names = {f"c{i}": column for i, column in enumerate(columns)}
    ordering = queryset.query.order_by
    keys = {}
    if ordering and all(isinstance(name, str) for name in ordering):
        keys = {f"o{i}": name for i, name in enumerate(ordering)}
        queryset = queryset.order_by()
    rows = queryset.values(
        **{
            name: F(column.source) if isinstance(column.source, str) else column.source
            for name, column in names.items()
        },
        **{key: F(name.removeprefix("-")) for key, name in keys.items()},
    )
    inner, params = rows.query.sql_with_params()
    cells = ", ".join(cell(column, f"q.{name}") for name, column in names.items())
    if row is not None:  # the row's cells as one expression
        cells = row(cells)
    order = ", ".join(f"q.{key}{' DESC' if name[0] == '-' else ''}" for key, name in keys.items())
    # Literal percent signs are doubled in the templates, as in Django's own SQL; psycopg
    # binds the inner query's parameters on the client.
    statement = f"SELECT {cells} FROM ({inner}) AS q" + (f" ORDER BY {order}" if order else "")
    if not params:  # psycopg merges (and undoubles %%) only when there are parameters
        statement = statement.replace("%%", "%")
    return statement, list(params)


@contextmanager
def in_site_zone(cursor, columns: Sequence[Column]) -> Iterator[None]:
    """The statement inside writes times in the zone of the request (Django's current time
    zone), as the generic writers do; the connection is in its own zone (UTC) before and
    after. Nothing to do for columns without a time.

    SET LOCAL lasts to the end of the transaction. On its own, the export runs in a
    transaction of its own, whose end (however the export ends: read, left unread, an error)
    ends the setting with it: one statement more. Inside another transaction (a test's) it
    is set back when done; after an error that transaction's rollback takes it back.
    """
    if not any(column.kind == TIMESTAMP for column in columns):
        yield
        return
    zone = timezone.get_current_timezone_name()
    if not connection.in_atomic_block:
        with transaction.atomic():
            _set_time_zone(cursor, zone)
            yield
        return
    previous = _set_time_zone(cursor, zone)
    try:
        yield
    finally:
        with suppress(DatabaseError):  # an aborted transaction: its rollback restores it
            _set_time_zone(cursor, previous)


def _set_time_zone(cursor, zone: str) -> str:
    """SET LOCAL TimeZone; the zone it replaces."""
    cursor.execute("SELECT current_setting('TimeZone'), set_config('TimeZone', %s, true)", [zone])
    return cursor.fetchone()[0]


def copy_csv(queryset: QuerySet, columns: Sequence[Column]) -> Callable[[], Iterator[str]] | None:
    """What writes the queryset's rows as CSV through COPY, or None off PostgreSQL.

    The query runs when the returned function's iterator is first read (in the response).
    """
    if connection.vendor != "postgresql":
        return None
    # An empty text is written as an empty cell, as the generic writer does (COPY would
    # quote it to tell it from NULL). COPY takes no parameters: psycopg binds them.
    select, arguments = _select(
        queryset,
        columns,
        lambda column, c: f"NULLIF({_CELLS[column.kind](c)}, '')",
    )
    statement = f"COPY ({select}) TO STDOUT (FORMAT csv)"
    header = ",".join(column.header for column in columns) + "\n"

    def chunks() -> Iterator[str]:
        yield header
        with connection.cursor() as cursor, in_site_zone(cursor, columns):
            pending: list[bytes] = []
            size = 0
            with cursor.cursor.copy(statement, arguments) as copy:
                for data in copy:
                    pending.append(bytes(data))
                    size += len(data)
                    if size >= CHUNK_BYTES:
                        yield b"".join(pending).decode("utf-8")
                        pending, size = [], 0
            yield b"".join(pending).decode("utf-8")

    return chunks


# The same cells as a sheet's XML (domain.xlsx.row_xml, which the tests hold it to): numbers
# stay numbers, text is never run as a formula there (it is a string cell), so it goes as it
# is, through domain.spreadsheet.xml_safe and escaped as xml.sax.saxutils.escape does.
_CONTROLS = "".join(f"\\x{n:02x}" for n in (*range(1, 9), 11, 12, *range(14, 32)))
# xml_safe: \x0b and \x0c are line breaks, the rest U+FFFD. translate() is dear (3.2 s for
# an assessments export's JSON): only a text that holds one of them goes through it.
_XML_SAFE = (
    f"CASE WHEN {{c}} ~ '[{_CONTROLS}]' THEN translate({{c}}, E'{_CONTROLS}', "
    "E'" + "\\ufffd" * 8 + "\\n\\n" + "\\ufffd" * 18 + "') ELSE {c} END"
)
_ESCAPE = "replace(replace(replace({c}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
# Most texts (codes, periods, statuses) hold nothing to change: one match passes them.
_XML_TEXT = f"CASE WHEN {{c}} ~ '[{_CONTROLS}&<>]' THEN {{changed}} ELSE {{c}} END"
_TEXT_CELL = f"'{TEXT_CELL_START}' || {{text}} || '{TEXT_CELL_END}'"
_NUMBER_CELL = f"'{NUMBER_CELL_START}' || {{number}} || '{NUMBER_CELL_END}'"


def _sheet_cell(kind: str, c: str) -> str:
    if kind == TEXT:
        changed = _ESCAPE.format(c=_XML_SAFE.format(c=c))
        cell = _TEXT_CELL.format(text=_XML_TEXT.format(c=c, changed=changed))
        return f"CASE WHEN {c} IS NULL OR {c} = '' THEN '{EMPTY_CELL}' ELSE {cell} END"
    if kind == INTEGER:
        number = _NUMBER_CELL.format(number=f"{c}::text")
        return f"CASE WHEN {c} IS NULL THEN '{EMPTY_CELL}' ELSE {number} END"
    if kind == DECIMAL:  # a number that is not finite is its text, as domain.xlsx writes it
        number = _NUMBER_CELL.format(number=_PLAIN_DECIMAL.format(c=c))
        return (
            f"CASE WHEN {c} IS NULL THEN '{EMPTY_CELL}' "
            f"WHEN {c} IN ('NaN', 'Infinity', '-Infinity') "
            f"THEN {_TEXT_CELL.format(text=f'{c}::text')} ELSE {number} END"
        )
    if kind == JSON:  # JSON writes control characters as \u escapes: none to replace
        cell = _TEXT_CELL.format(text=_ESCAPE.format(c=_CELLS[kind](c)))
    else:  # TIMESTAMP: digits and punctuation only
        cell = _TEXT_CELL.format(text=_CELLS[kind](c))
    return f"CASE WHEN {c} IS NULL THEN '{EMPTY_CELL}' ELSE {cell} END"


def sheet_xml(queryset: QuerySet, columns: Sequence[Column]) -> Callable[[], Iterator[str]] | None:
    """What reads the queryset's rows as the sheet's `<row>` elements, written by the
    database as domain.xlsx.row_xml writes them, or None off PostgreSQL.

    Read as cells from COPY, an assessments export spent most of its time in the sheet's
    Python, making each cell's markup. Here PostgreSQL's parallel workers write the rows'
    markup before the sort, and Python only passes each row's text on to the zip: 44,160
    assessments' sheet in 1.7-1.9 s instead of 2.4-2.9 (the same machine, alternating runs).
    """
    if connection.vendor != "postgresql":
        return None
    select, arguments = _select(
        queryset,
        columns,
        lambda column, c: _sheet_cell(column.kind, c),
        row=lambda cells: f"concat('{ROW_START}', {cells}, '{ROW_END}')",
    )
    statement = f"COPY ({select}) TO STDOUT"

    def rows() -> Iterator[str]:
        with (
            connection.cursor() as cursor,
            in_site_zone(cursor, columns),
            cursor.cursor.copy(statement, arguments) as copy,
        ):
            copy.set_types(["text"])
            yield from (row for (row,) in copy.rows())

    return rows
