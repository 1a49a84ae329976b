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
        figure = charts.perspective_counts_chart(rows)
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
        assert charts.over_time_chart(series)["layout"]["separators"] == ",\xa0"
    with translation.override("en"):
        assert charts.over_time_chart(series)["layout"]["separators"] == ".,"


def test_long_unit_names_are_shortened_in_the_middle():
    short = charts._short("Allmänmedicinska vårdplatser Övertorneå")
    assert len(short) <= charts.NAME_LENGTH and short.endswith("Övertorneå") and "…" in short


def test_count_axes_tick_at_whole_numbers_only():
    # Two indicators at most: plotly.js's own ticks would be 0, 0.5, 1, 1.5, 2, shown by the
    # whole-number format as "0 0 1 1 2" (issue #10).
    series = PerspectiveSeries(
        _Perspective(),
        [("2021-T2", StatusCounts(1, 0, 0, 1)), ("2022-T2", StatusCounts(0, 1, 0, 0))],
    )
    axis = charts.over_time_chart(series)["layout"]["yaxis"]
    assert (axis["tickmode"], axis["tick0"], axis["dtick"], axis["tickformat"]) == (
        "linear",
        0,
        1,
        ",d",
    )
    assert axis["range"] == [0, 2 * 1.05]  # the stacked total, not the largest single status
    rows = [("Samhälle", StatusCounts(30, 5, 2, 0)), ("Ekonomi", StatusCounts(0, 0, 0, 0))]
    assert charts.perspective_counts_chart(rows)["layout"]["xaxis"]["dtick"] == 10
    empty = charts.perspective_counts_chart([("Ekonomi", StatusCounts())])["layout"]["xaxis"]
    assert empty["range"] == [0, 1.05] and empty["dtick"] == 1


def test_count_step_is_one_two_or_five_times_a_power_of_ten():
    steps = {n: charts._count_step(n) for n in (0, 1, 6, 7, 12, 13, 30, 31, 60, 61, 6000, 6001)}
    assert steps == {
        0: 1,
        1: 1,
        6: 1,
        7: 2,
        12: 2,
        13: 5,
        30: 5,
        31: 10,
        60: 10,
        61: 20,
        6000: 1000,
        6001: 2000,
    }


def test_an_indicator_that_counts_has_whole_ticks_others_keep_their_own():
    assert charts._whole_ticks("count", [3, 2, None, 1]) == {
        "tickmode": "linear",
        "tick0": 0,
        "dtick": 1,
    }
    assert charts._whole_ticks("count", [6171, 1123])["dtick"] == 2000
    assert charts._whole_ticks("percent", [0.5, 1.5]) == {}
    assert charts._whole_ticks("count", [None]) == {}
