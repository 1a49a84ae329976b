"""Charts are pure functions of selector output: no database, no status computed here."""

from django.utils import translation

from dashboard import charts
from dashboard.selectors.over_time import PerspectiveSeries
from dashboard.selectors.overview import StatusCounts


class _Perspective:
    name = "Ekonomi"
    code = "ekonomi"


def test_counts_chart_has_one_trace_per_status_with_colour_pattern_and_outline():
    rows = [("Samhälle", StatusCounts(2, 1, 0, 0)), ("Ekonomi", StatusCounts(0, 0, 3, 1))]
    with translation.override("sv"):
        figure = charts.perspective_counts_chart(rows).to_plotly_json()
    traces = figure["data"]
    assert [t["name"] for t in traces] == [
        "Uppfyllt",
        "Delvis uppfyllt",
        "Ej uppfyllt",
        "Utfall saknas",
    ]
    assert traces[2]["x"] == [3, 0] and traces[2]["y"] == ["Ekonomi", "Samhälle"]  # first on top
    patterns = {t["marker"]["pattern"]["shape"] for t in traces}
    colours = {t["marker"]["color"] for t in traces}
    assert len(patterns) == 4 and len(colours) == 4  # never colour alone
    assert all(t["marker"]["line"]["width"] >= 1 for t in traces)


def test_number_format_follows_the_language():
    series = PerspectiveSeries(_Perspective(), [("2021-T2", StatusCounts(1, 0, 0, 0))])
    with translation.override("sv"):
        assert charts.over_time_chart(series).layout.separators == ",\xa0"
    with translation.override("en"):
        assert charts.over_time_chart(series).layout.separators == ".,"


def test_long_unit_names_are_shortened_in_the_middle():
    short = charts._short("Allmänmedicinska vårdplatser Övertorneå")
    assert len(short) <= charts.NAME_LENGTH and short.endswith("Övertorneå") and "…" in short
