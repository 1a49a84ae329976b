"""Plotly figures for the dashboard: pure functions from selector output to figures.

No queries and no rules here: every status and number comes from the selectors, which
read the stored Assessments. Status colours, fill patterns, breakdown line styles, labels
and the locale's number format come from dashboard.presentation, as on the rest of the page;
what lives here is the layout of the figures.

A figure is the JSON plotly.js draws, built as plain dicts: plotly's graph_objects validate
every property on the way in and out and cost more than the rest of a page (issue 13).
tests/scorecard/test_chart_json.py holds them to what graph_objects produced, and passes
each through graph_objects' validation.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from decimal import Decimal

from django.utils.translation import gettext as _

from benchmarks.selectors import NationalComparison
from dashboard.presentation import (
    BREAKDOWN_STYLES,
    OTHER_STYLES,
    STATES,
    STATUS_COLOURS,
    STATUS_ORDER,
    STATUS_PATTERNS,
    breakdown_label,
    number_separators,
    status_label,
    unit_suffix,
    unit_title,
)
from dashboard.selectors.indicator import IndicatorPage
from dashboard.selectors.over_time import PerspectiveSeries
from dashboard.selectors.overview import StatusCounts

OUTLINE = "#1b1b1b"
INK = "#1b1b1b"
GRID = "#d9d9d9"
TARGET_COLOUR = "#1b1b1b"
NAME_LENGTH = 30  # tick labels longer than this are shortened; the hover shows the full name


def _status_name(status: str) -> str:
    # A chart's legend names the bars of units without an assessment too.
    return status_label(status) or _("Ingen bedömning")


# What plotly.py writes for `template="none"`: an empty template (plotly.js's own defaults).
NO_TEMPLATE = {"data": {"scatter": [{"type": "scatter"}]}}


def _figure(layout: dict) -> dict:
    return {"data": [], "layout": layout}


def _layout(**extra) -> dict:
    layout = {
        "template": NO_TEMPLATE,
        "separators": number_separators(),
        "font": {
            "family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
            "size": 13,
            "color": INK,
        },
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        # Above the plot: below it, the legend collides with the axis title on a phone.
        "legend": {
            "orientation": "h",
            "y": 1.02,
            "yanchor": "bottom",
            "x": 0,
            "traceorder": "normal",
        },
        "hoverlabel": {"bgcolor": "#ffffff", "font": {"color": INK}},
    }
    layout.update(extra)
    return layout


def _axis(**extra) -> dict:
    axis = {"automargin": True, "gridcolor": GRID, "linecolor": INK, "zerolinecolor": GRID}
    axis.update(extra)
    return axis


# Ticks of a count axis: 1, 2 or 5 times a power of ten, at most this many steps (more
# crowd a 300 px chart on a phone).
COUNT_TICKS = 6


def _count_step(largest: int) -> int:
    """The tick step of an axis of counts up to `largest`: a whole number, so that plotly.js
    never puts ticks at 0.2, 0.4 ... which a whole-number format shows as "0 0 0 1 1 1"."""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if largest <= step * COUNT_TICKS:
                return step
        magnitude *= 10


def _count_axis(figure: dict, axis: str) -> None:
    """Whole-number ticks on the axis (x or y) that stacked bars of counts run along."""
    stacked: dict[object, int] = {}
    for trace in figure["data"]:
        categories = trace.get("y" if axis == "x" else "x")
        for category, count in zip(categories or (), trace.get(axis) or (), strict=False):
            stacked[category] = stacked.get(category, 0) + (count or 0)
    largest = max(stacked.values(), default=0)
    figure["layout"][f"{axis}axis"].update(
        {
            "tickmode": "linear",
            "tick0": 0,
            "dtick": _count_step(largest),
            "tickformat": ",d",
            # An empty chart still shows 0 and 1 rather than plotly.js's -1 .. 1.
            "range": [0, max(largest, 1) * 1.05],
        }
    )


def _whole_ticks(unit: str, values: Sequence[float | None]) -> dict:
    """Ticks of a value axis: whole numbers for an indicator that counts (1, 2, 3 falls, not
    0.5, 1.5); other units keep plotly.js's own ticks."""
    numbers = [v for v in values if v is not None]
    if unit != "count" or not numbers:
        return {}
    span = max(*numbers, 0) - min(*numbers, 0)  # from zero: a step fit for the whole range
    return {"tickmode": "linear", "tick0": 0, "dtick": _count_step(math.ceil(span))}


def _status_marker(status: str, *, highlight: bool = False) -> dict:
    return {
        "color": STATUS_COLOURS.get(status, STATUS_COLOURS[""]),
        "line": {"color": OUTLINE, "width": 3 if highlight else 1},
        # Drawn over the colour, not instead of it: colour for most readers, pattern for all.
        "pattern": {
            "shape": STATUS_PATTERNS.get(status, ""),
            "fillmode": "overlay",
            "fgcolor": OUTLINE,
            "fgopacity": 0.55,
            "size": 7,
        },
    }


def _value_format(unit: str) -> str:
    """A d3 format for hover labels: up to two decimals, the locale's separators."""
    return ",.2~f" + "}" + unit_suffix(unit)


def _text(text: str) -> str:
    """Text from the data (names of units, perspectives, breakdowns) as plotly.js shows it.

    plotly.js reads tags in every label and hover text (<a href>, <b>, <br>, <span style>)
    and decodes entities: escaped, a name shows as typed and never turns into a link.
    """
    return html.escape(str(text), quote=False)


def _short(name: str) -> str:
    # Cut in the middle: unit names differ at the end ("... vårdplatser Pajala").
    if len(name) <= NAME_LENGTH:
        return name
    head = NAME_LENGTH // 3
    return name[:head].rstrip() + "…" + name[-(NAME_LENGTH - head - 1) :].lstrip()


def _trace(kind: str, **properties) -> dict:
    return {"type": kind, **properties}


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- goal fulfilment


def perspective_counts_chart(rows: Sequence[tuple[str, StatusCounts]]) -> dict:
    """Stacked horizontal bars: indicators per status, one bar per perspective."""
    names = [_text(name) for name, _counts in rows][::-1]  # first perspective on top
    counts = [c for _name, c in rows][::-1]
    figure = _figure(
        _layout(
            barmode="stack",
            height=90 + 44 * len(rows),
            xaxis=_axis(title={"text": _("Antal styrmått")}),
            yaxis=_axis(showgrid=False),
        )
    )
    for status in STATUS_ORDER:
        label = _status_name(status)
        figure["data"].append(
            _trace(
                "bar",
                name=label,
                orientation="h",
                y=names,
                x=[getattr(c, status) for c in counts],
                marker=_status_marker(status),
                hovertemplate="%{y}: %{x} " + _("styrmått") + f" – {label}<extra></extra>",
            )
        )
    _count_axis(figure, "x")
    return figure


def over_time_chart(series: PerspectiveSeries) -> dict:
    """Stacked bars per period: indicators fulfilled / partly / not fulfilled / no data."""
    periods = [period for period, _counts in series.points]
    figure = _figure(
        _layout(
            barmode="stack",
            height=300,
            xaxis=_axis(type="category", title={"text": _("Period")}),
            yaxis=_axis(title={"text": _("Antal styrmått")}),
        )
    )
    for status in STATUS_ORDER:
        label = _status_name(status)
        figure["data"].append(
            _trace(
                "bar",
                name=label,
                x=periods,
                y=[getattr(counts, status) for _period, counts in series.points],
                marker=_status_marker(status),
                hovertemplate="%{x}: %{y} " + _("styrmått") + f" – {label}<extra></extra>",
            )
        )
    _count_axis(figure, "y")
    return figure


# --------------------------------------------------------------------------- indicator


def indicator_series_chart(page: IndicatorPage) -> dict:
    """The indicator over every period of one follow-up kind, with its target."""
    unit = page.indicator.unit
    value_format = _value_format(unit)
    periods = [row.period for row in page.history]
    figure = _figure(
        _layout(
            height=360,
            xaxis=_axis(type="category", title={"text": _("Period")}),
            yaxis=_axis(
                title={"text": unit_title(unit)},
                ticksuffix=unit_suffix(unit),
            ),
            hovermode="x unified",
        )
    )
    others = iter(OTHER_STYLES)
    for breakdown in page.breakdowns:
        colour, dash, symbol = BREAKDOWN_STYLES.get(breakdown) or next(others, OTHER_STYLES[0])
        values = [row.values.get(breakdown) for row in page.history]
        figure["data"].append(
            _trace(
                "scatter",
                name=_text(breakdown_label(breakdown)),
                x=periods,
                y=[_float(m.value) if m else None for m in values],
                mode="lines+markers",
                connectgaps=False,
                line={"color": colour, "dash": dash, "width": 3 if breakdown == "total" else 2},
                marker={"symbol": symbol, "size": 8, "color": colour},
                hovertemplate="%{y:"
                + value_format
                + "<extra>"
                + _text(breakdown_label(breakdown))
                + "</extra>",
            )
        )
    # The target it was judged against, per period (pro-rated or from a reference value
    # where the rule says so): one line, or one per breakdown when women and men differ.
    target_keys = sorted(
        {key for row in page.history for key in row.thresholds},
        key=lambda k: page.indicator.breakdowns.index(k) if k in page.indicator.breakdowns else 99,
    )
    distinct = {tuple(row.thresholds.get(k) for k in target_keys) for row in page.history}
    if target_keys and all(len(set(t) - {None}) <= 1 for t in distinct):
        target_keys = target_keys[:1]  # every breakdown has the same target: one line
    for key in target_keys:
        name = _text(
            _("Mål") if len(target_keys) == 1 else f"{_('Mål')} {breakdown_label(key).lower()}"
        )
        # Black says "target"; the breakdown's own dash says whose (women dashed, men dotted),
        # else two black dashed lines would not say which is which.
        dash = (BREAKDOWN_STYLES.get(key) or (None, "dash"))[1] if len(target_keys) > 1 else ""
        figure["data"].append(
            _trace(
                "scatter",
                name=name,
                x=periods,
                y=[_float(row.thresholds.get(key)) for row in page.history],
                mode="lines+markers",  # a marker too, so that a single period shows its target
                line={
                    "color": TARGET_COLOUR,
                    "dash": dash if dash not in ("", "solid") else "dash",
                    "width": 2,
                    "shape": "hvh",
                },
                marker={
                    "symbol": "line-ew-open",
                    "size": 18,
                    "color": TARGET_COLOUR,
                    "line": {"width": 3},
                },
                hovertemplate="%{y:" + value_format + "<extra>" + name + "</extra>",
            )
        )
    figure["layout"]["yaxis"].update(
        _whole_ticks(unit, [y for trace in figure["data"] for y in trace["y"]])
    )
    return figure


def comparison_chart(page: IndicatorPage) -> dict:
    """The units under the org unit for the period, sorted, coloured by their status."""
    rows = [row for row in page.comparison if row.value is not None][::-1]  # highest on top
    unit = page.indicator.unit
    value_format = _value_format(unit)
    figure = _figure(
        _layout(
            height=110 + 30 * max(len(rows), 1),
            showlegend=True,
            bargap=0.25,
            xaxis=_axis(
                title={"text": unit_title(unit)},
                ticksuffix=unit_suffix(unit),
                rangemode="tozero",
            ),
            yaxis=_axis(showgrid=False, type="category"),
        )
    )
    # One trace per status so that the legend explains colour and pattern.
    for status in (*STATES, ""):
        members = [r for r in rows if (r.status or "") == status]
        if not members:
            continue
        label = _status_name(status)
        marker = _status_marker(status)
        marker["line"] = {"color": OUTLINE, "width": [3 if r.current else 1 for r in members]}
        figure["data"].append(
            _trace(
                "bar",
                name=label,
                orientation="h",
                y=[_text(_short(r.org_unit.name)) for r in members],
                x=[_float(r.value) for r in members],
                customdata=[_text(r.org_unit.name) for r in members],
                marker=marker,
                hovertemplate="%{customdata}: %{x:" + value_format + f" – {label}<extra></extra>",
            )
        )
    # Keep the sorted order whatever trace a bar is in.
    figure["layout"]["yaxis"].update(
        categoryorder="array", categoryarray=[_text(_short(r.org_unit.name)) for r in rows]
    )
    thresholds = [r.threshold for r in rows if r.threshold is not None]
    if thresholds:
        figure["data"].append(
            _trace(
                "scatter",
                name=_("Mål"),
                mode="markers",
                y=[_text(_short(r.org_unit.name)) for r in rows if r.threshold is not None],
                x=[_float(r.threshold) for r in rows if r.threshold is not None],
                marker={
                    "symbol": "line-ns-open",
                    "size": 22,
                    "color": TARGET_COLOUR,
                    "line": {"width": 3},
                },
                hovertemplate="%{x:" + value_format + "<extra>" + _("Mål") + "</extra>",
            )
        )
    figure["layout"]["xaxis"].update(
        _whole_ticks(unit, [x for trace in figure["data"] for x in trace["x"]])
    )
    return figure


# The region, the country and the peers: the region stands out by colour, width and marker,
# the country by its black dashes; peers are thin grey lines, each with a marker of its own.
NATIONAL_STYLES = {
    "region": ("#00304d", "solid", "circle", 4),
    "country": (INK, "dash", "square", 3),
}
PEER_MARKERS = ["triangle-up", "diamond", "x", "cross", "star", "hexagon", "pentagon"]
PEER_COLOUR = "#767676"


def national_chart(national: NationalComparison, unit: str) -> dict:
    """The region's annual values beside the country's and the peer regions' (Kolada)."""
    value_format = _value_format(unit)
    years = [str(y) for y in national.years]
    figure = _figure(
        _layout(
            height=360,
            xaxis=_axis(type="category", title={"text": _("År (årsvärden)")}),
            yaxis=_axis(title={"text": unit_title(unit)}, ticksuffix=unit_suffix(unit)),
            hovermode="x unified",
        )
    )
    for index, series in enumerate(national.series):
        if series.role == "peer":
            colour, dash, symbol, width = (
                PEER_COLOUR,
                "dot",
                PEER_MARKERS[index % len(PEER_MARKERS)],
                1,
            )
        else:
            colour, dash, symbol, width = NATIONAL_STYLES[series.role]
        name = _text(series.name)
        figure["data"].append(
            _trace(
                "scatter",
                name=name,
                x=years,
                y=[_float(series.values.get(y)) for y in national.years],
                mode="lines+markers",
                connectgaps=False,
                line={"color": colour, "dash": dash, "width": width},
                marker={
                    "symbol": symbol,
                    "size": 9 if series.role == "region" else 7,
                    "color": colour,
                },
                hovertemplate="%{y:" + value_format + "<extra>" + name + "</extra>",
            )
        )
    figure["layout"]["yaxis"].update(
        _whole_ticks(unit, [y for trace in figure["data"] for y in trace["y"]])
    )
    return figure
