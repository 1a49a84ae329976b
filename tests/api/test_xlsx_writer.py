"""The streaming XLSX writer (domain/xlsx.py): what openpyxl reads back is what was written."""

import io
import warnings
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from domain.xlsx import write_xlsx


def _read(columns, rows, sheet="utfall"):
    out = io.BytesIO()
    write_xlsx(out, columns, rows, sheet=sheet)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing default style warns: that is a defect
        workbook = load_workbook(io.BytesIO(out.getvalue()))
    worksheet = workbook.active
    return worksheet.title, [list(row) for row in worksheet.iter_rows(values_only=True)]


def test_values_keep_their_type_and_text_is_never_a_formula():
    title, rows = _read(
        ["text", "number", "flag", "day", "moment"],
        [
            ['=HYPERLINK("x")', Decimal("92.500"), True, date(2024, 5, 31), None],
            ["Kvinnor & <män>\x0bny rad", 7, False, None, datetime(2024, 1, 2, 3, 4, 5)],
            ["", 0.25, None, None, datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)],
        ],
    )
    assert title == "utfall"
    assert rows[0] == ["text", "number", "flag", "day", "moment"]
    assert rows[1] == ['=HYPERLINK("x")', 92.5, True, datetime(2024, 5, 31), None]
    assert rows[2] == ["Kvinnor & <män>\nny rad", 7, False, None, datetime(2024, 1, 2, 3, 4, 5)]
    assert rows[3] == [None, 0.25, None, None, datetime(2024, 1, 2, 3, 4, 5)]


def test_many_rows_and_columns_past_z():
    columns = [f"c{i}" for i in range(30)]
    _title, rows = _read(columns, ([n * 100 + i for i in range(30)] for n in range(1200)))
    assert len(rows) == 1201 and rows[0][-1] == "c29" and rows[-1][-1] == 1199 * 100 + 29


def test_cells_after_empty_ones_keep_their_column_and_text_its_spaces():
    class Code(str):  # a str subclass (Django's SafeString, a StrEnum) is text too
        pass

    _title, rows = _read(
        ["a", "b", "c", "d", "e"],
        [
            [None, "", Code("nara"), "  two spaces ", -3],
            ["x" * 100, None, 0, "", False],
        ],
    )
    assert rows[1] == [None, None, "nara", "  two spaces ", -3]
    assert rows[2] == ["x" * 100, None, 0, None, False]


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("a&b", "a&b"),
        ("a<b", "a<b"),
        ("a>b", "a>b"),
        ("a\x01b", "a\ufffdb"),
        ("a\x0cb", "a\nb"),
        ("a\x1fb", "a\ufffdb"),
        ('{"a": "b"}', '{"a": "b"}'),
    ],
)
def test_each_character_that_needs_it_is_escaped_short_or_long(text, read):
    """A text with one character to escape or replace, alone or in a long (unremembered)
    text, is read back as xml_safe makes it: the writer's one-scan check misses none."""
    long = text * 50
    _title, rows = _read(["short", "long"], [[text, long], [text, long]])
    assert rows[1:] == [[read, read * 50], [read, read * 50]]
