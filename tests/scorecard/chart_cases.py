"""Inputs for the chart tests: selector output as the pages hand it to dashboard.charts.

Stand-ins with the attributes the charts read (the charts are pure functions of them), so
that the figures can be compared without a database: see test_chart_json.py.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from dashboard.selectors.over_time import PerspectiveSeries
from dashboard.selectors.overview import StatusCounts


def _unit(name: str) -> SimpleNamespace:
    return SimpleNamespace(name=name)


def _value(value: str | None) -> SimpleNamespace | None:
    return None if value is None else SimpleNamespace(value=Decimal(value))


def _row(period: str, values: dict, thresholds: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        period=period,
        values={k: v for k, v in ((k, _value(v)) for k, v in values.items()) if v is not None},
        thresholds={k: Decimal(v) for k, v in (thresholds or {}).items()},
    )


def _compared(name: str, value, status: str, threshold=None, current=False):
    return SimpleNamespace(
        org_unit=_unit(name),
        value=None if value is None else Decimal(value),
        status=status,
        threshold=None if threshold is None else Decimal(threshold),
        current=current,
    )


def _page(unit: str, breakdowns: list[str], present: list[str], history, comparison):
    return SimpleNamespace(
        indicator=SimpleNamespace(unit=unit, breakdowns=breakdowns),
        breakdowns=present,
        history=history,
        comparison=comparison,
    )


class _Perspective:
    name = "Ekonomi <b>& kvalitet</b>"
    code = "ekonomi"


COUNTS = {
    "two perspectives": [
        ("Samhälle", StatusCounts(2, 1, 0, 0)),
        ("Ekonomi & <a href='x'>", StatusCounts(0, 0, 3, 1)),
    ],
    "empty": [("Ekonomi", StatusCounts())],
    "many": [(f"Perspektiv {i}", StatusCounts(30 + i, 5, 2, i)) for i in range(6)],
}

OVER_TIME = {
    "three periods": PerspectiveSeries(
        _Perspective(),
        [
            ("2021-T2", StatusCounts(1, 0, 0, 1)),
            ("2022-T2", StatusCounts(0, 1, 0, 0)),
            ("2023-T2", StatusCounts(12, 3, 4, 0)),
        ],
    ),
    "no periods": PerspectiveSeries(_Perspective(), []),
}

SERIES = {
    "women and men with two targets": _page(
        "percent",
        ["total", "women", "men"],
        ["total", "women", "men"],
        [
            _row(
                "2021-T1",
                {"total": "81.5", "women": "80", "men": "83"},
                {"women": "85", "men": "80"},
            ),
            _row(
                "2021-T2",
                {"total": "82.25", "women": None, "men": "84"},
                {"women": "85", "men": "82"},
            ),
            _row("2021-T3", {"total": "79"}, {}),
        ],
        [],
    ),
    "one target for every breakdown": _page(
        "count",
        ["total", "women", "men"],
        ["total", "women"],
        [
            _row("2022", {"total": "3", "women": "1"}, {"total": "2", "women": "2"}),
            _row("2023", {"total": "7", "women": "4"}, {"total": "2", "women": "2"}),
        ],
        [],
    ),
    "other breakdowns, no target": _page(
        "sek",
        ["total", "sjukskoterskor_natt", "lakare"],
        ["total", "sjukskoterskor_natt", "lakare"],
        [_row("2021-01", {"total": "1000.5", "sjukskoterskor_natt": "2", "lakare": "3"})],
        [],
    ),
}

COMPARISON = {
    "statuses and targets": _page(
        "percent",
        ["total"],
        ["total"],
        [],
        [
            _compared("Allmänmedicinska vårdplatser Övertorneå", "91.2", "fulfilled", "90", True),
            _compared("Vårdcentral <Kiruna>", "85", "partly", "90"),
            _compared("Enhet C", "60", "not_fulfilled", "90"),
            _compared("Enhet D", "70", "no_reference"),
            _compared("Enhet E", None, "no_data", "90"),
        ],
    ),
    "counts without targets": _page(
        "count",
        ["total"],
        ["total"],
        [],
        [_compared("Enhet A", "12", ""), _compared("Enhet B", "3", "not_assessed")],
    ),
}
