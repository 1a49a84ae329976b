"""The reader's fast path for plain rows gives exactly what the general path gives."""

from decimal import Decimal

import pytest

from domain.exchange.format import HEADER
from domain.exchange.reading import _plain_row, _Records, _validate_row, read_measurements

PLAN_INDEXES = tuple(range(len(HEADER)))

ROWS = [
    ["sjukfranvaro", "div_nara", "2022-T2", "total", "7", "", "", ""],
    [" sjukfranvaro ", " div_nara", "2022-t2 ", "K", " 92,5 ", "370", "1029", " Jan-apr "],
    ["a", "b", "2022-08", "Kvinnor", "+4", "-0", "007", "x"],
    ["a", "b", "2022", "M", "-3.50", "", "1.5", ""],
    ["a", "b", "2022", "ålder_40", "1", "", "", ""],  # non-ASCII: general path
    ["a", "b", "2022", "total", "29 191", "", "", ""],  # grouped digits: general path
    ["a", "b", "2022", "total", "92,5 %", "", "", ""],
    ["a", "b", "2022", "total", "7", "", "0", ""],  # denominator 0: an error
    ["a", "b", "2022", "total", "7", "", "-2", ""],
    ["a", "", "2022", "total", "7", "", "", ""],  # empty required cell: an error
    ["a", "b", "2022-T4", "total", "7", "", "", ""],
    ["a", "b", "2022", "total", "1e3", "", "", ""],
    ["a", "b", "2022", "total", "5.", "", "", ""],
]


@pytest.mark.parametrize(("number", "cells"), list(enumerate(ROWS)))
def test_the_fast_path_agrees_with_the_general_path(number, cells):
    from domain.exchange.cells import CONVERTERS as _CONVERTERS

    plan = [(name, index, _CONVERTERS[name]) for index, name in enumerate(HEADER)]
    records = _Records(iter(()))
    general = _validate_row(2, cells, plan, records)  # also fills the period cache
    fast = _plain_row(2, cells, PLAN_INDEXES)
    if number < 4:  # plain rows: the fast path takes them
        assert fast is not None
    if fast is not None:
        assert fast == general
        pairs = zip(vars(fast).values(), vars(general).values(), strict=True)
        assert all(type(a) is type(b) for a, b in pairs)


def test_a_plain_file_reads_the_same_either_way(tmp_path):
    body = "indicator;org_unit;period;breakdown;value;numerator;denominator\n" + "".join(
        f"i;u;2022-{m:02d};K;{m},5;{m};10\n" for m in range(1, 13)
    )
    with (tmp_path / "v.csv").open("wb") as handle:
        handle.write(body.encode())
    with (tmp_path / "v.csv").open("rb") as handle:
        rows = list(read_measurements(handle, "v.csv"))
    assert [r.value for r in rows] == [Decimal(f"{m}.5") for m in range(1, 13)]
    assert {r.breakdown for r in rows} == {"women"} and rows[0].denominator == 10
