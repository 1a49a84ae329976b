"""The charts as plain dicts draw exactly what Plotly's graph_objects drew (issue 13).

tests/data/charts/plotly_figures.json holds the figures the graph_objects version of
dashboard/charts.py produced for the cases in chart_cases.py, in Swedish and English. The
dict builder must give the same JSON, and graph_objects must accept it unchanged: a
property plotly.js does not know, or a value of the wrong type, fails here.
"""

import json
from pathlib import Path

import plotly.graph_objects as go
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation

from dashboard import charts
from tests.scorecard import chart_cases

REFERENCE = json.loads(
    (Path(__file__).parents[1] / "data/charts/plotly_figures.json").read_text(encoding="utf-8")
)
CASES = [
    (language, function, name, case)
    for language in ("sv", "en")
    for function, cases in (
        ("perspective_counts_chart", chart_cases.COUNTS),
        ("over_time_chart", chart_cases.OVER_TIME),
        ("indicator_series_chart", chart_cases.SERIES),
        ("comparison_chart", chart_cases.COMPARISON),
    )
    for name, case in cases.items()
]


def _json(figure) -> dict:
    # As the page writes it (json_script), read back.
    return json.loads(json.dumps(figure, cls=DjangoJSONEncoder))


@pytest.mark.parametrize(
    ("language", "function", "name", "case"),
    CASES,
    ids=[f"{lang}-{fn}-{name}" for lang, fn, name, _case in CASES],
)
def test_figure_is_what_graph_objects_drew_and_passes_its_validation(
    language, function, name, case
):
    with translation.override(language):
        figure = getattr(charts, function)(case)
    assert _json(figure) == REFERENCE[f"{language} {function} {name}"]
    assert _json(go.Figure(figure).to_plotly_json()) == _json(figure)


def test_every_reference_figure_is_checked():
    assert len(CASES) == len(REFERENCE) == 20
