"""Template tags: the pages' way to dashboard.presentation, and the markup of badges.

Statuses and trends show as symbol and text, never colour alone.
"""

from django import template
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from dashboard import presentation
from dashboard.presentation import (
    STATUS_SYMBOLS,
    TREND_SYMBOLS,
    breakdown_label,
    number,
    status_label,
    trend_label,
)

register = template.Library()

register.filter("number", number)
register.filter("breakdown_label", breakdown_label)
register.filter("status_label", status_label)
register.filter("status_symbol", presentation.status_symbol)
register.filter("follow_up", presentation.follow_up)
register.filter("kind_label", presentation.kind_label)
register.filter("kind_slug", presentation.kind_slug)


# Badges are simple tags, not inclusion tags: a scorecard shows hundreds of them and an
# inclusion tag renders a template for each. Markup as in _status.html and _trend.html.
@register.simple_tag
def status_badge(status: str) -> str:
    if not status:
        return ""
    return format_html(
        '<span class="status status--{}"><span class="status__symbol" aria-hidden="true">{}'
        "</span> {}</span>",
        status,
        STATUS_SYMBOLS.get(status, "?"),
        status_label(status),
    )


@register.simple_tag
def trend_badge(trend: str) -> str:
    if not trend:
        return ""
    symbol = TREND_SYMBOLS.get(trend, "")
    if symbol:
        return format_html(
            '<span class="trend trend--{}"><span class="trend__symbol" aria-hidden="true">{}'
            "</span> {}</span>",
            trend,
            symbol,
            trend_label(trend),
        )
    return format_html('<span class="trend trend--{}">{}</span>', trend, trend_label(trend))


@register.simple_tag
def status_counts(counts) -> str:
    """Indicators per state as symbol and number, the words for screen readers: the three
    judged states always, the others where there are any."""
    items = []
    for status, n in counts.items():
        if not n and status not in presentation.STATUS_ORDER[:3]:
            continue
        items.append(
            format_html(
                '<span class="counts__item counts__item--{}"><span aria-hidden="true">{}</span>'
                '<span class="visually-hidden">{}:</span> {}</span>',
                status,
                STATUS_SYMBOLS.get(status, ""),
                presentation.status_count_word(status),
                n,
            )
        )
    return format_html('<span class="counts">{}</span>', mark_safe(" ".join(items)))


@register.simple_tag
def legend_states() -> list[tuple[str, str]]:
    """Every state a row can show, with what it means."""
    return [(status, presentation.status_explanation(status)) for status in presentation.STATES]


@register.filter
def unit_suffix(indicator) -> str:
    """' %' after a share's value (the counts written beside a share have no suffix)."""
    return presentation.unit_suffix(indicator.unit)


@register.simple_tag
def quantity(value, unit: str, breakdown: str = "total") -> str:
    """A value with its unit: '17,1 %', '-31 mnkr', '6 171 st'."""
    return presentation.quantity(value, unit, breakdown)


@register.simple_tag
def national_value(values: dict, key: str, unit: str) -> str:
    """A Kolada value of a comparison row (by gender or area), or a muted dash."""
    value = (values or {}).get(key)
    if value is None:
        return format_html('<span class="muted">–</span>')
    return presentation.quantity(value, unit, "total")


@register.simple_tag
def target_text(target: str, unit: str, breakdown: str = "total") -> str:
    return presentation.target_text(target, unit, breakdown)


@register.filter
def line_value(line) -> str:
    """A report line's value with its unit ("" without a value)."""
    return presentation.quantity(line.value, line.indicator.unit, line.breakdown)


@register.filter
def line_target(line) -> str:
    """A report line's target as the report writes it, a bare figure with its unit."""
    return presentation.target_text(line.target, line.indicator.unit, line.breakdown)


@register.filter
def correction_for(line, corrections):
    """The change of a report line against its frozen version, if it changed."""
    if not corrections:
        return None
    return corrections.by_key.get(f"{line.indicator.code}/{line.breakdown}")


@register.filter
def correction_field(change) -> str:
    return presentation.correction_field(change.field)


@register.filter
def correction_kind(kind: str) -> str:
    return presentation.correction_kind(kind)


@register.filter
def frozen_value(change) -> str:
    return presentation.correction_value(change)[0]


@register.filter
def current_value(change) -> str:
    return presentation.correction_value(change)[1]


@register.filter
def lookup(mapping, key):
    return mapping.get(key) if mapping else None


@register.inclusion_tag("dashboard/_chart.html")
def chart(figure: dict, chart_id: str, caption_id: str):
    """A Plotly figure (dashboard.charts): its JSON in a data script, drawn by
    static/js/charts.js."""
    return {
        "figure": figure,
        "chart_id": chart_id,
        "data_id": f"{chart_id}-data",
        "caption_id": caption_id,
    }


def _person(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


@register.simple_tag
def source_rows(measurements, period: str, unit: str = "") -> str:
    """Where each value came from, one row per measurement (import, file row, user, time).

    Written out here rather than in the template: an indicator followed monthly has
    hundreds of values, and a template loop over them costs more than the rest of the page.
    """
    if not measurements:
        return format_html('<tr><td colspan="8">{}</td></tr>', _("Inga utfall."))
    typed = str(_("inmatad i formulär"))
    origins: dict[int | None, str] = {}  # per import: the same file for many values
    stamps: dict = {}
    rows = []
    for m in measurements:
        source = m.source_import
        if m.source_import_id not in origins:
            origins[m.source_import_id] = (
                format_html("{} (#{}, {})", source.filename, source.pk, source.get_source_display())
                if source
                else typed
            )
        if m.updated_at not in stamps:
            stamps[m.updated_at] = date_format(localtime(m.updated_at), "Y-m-d H:i")
        shares = f"{number(m.numerator)} / {number(m.denominator)}" if m.denominator else "–"
        person = _person(m.entered_by) or _person(source.user if source else None) or "–"
        rows.append(
            format_html(
                '<tr{}><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td>'
                '<td>{}</td><td class="num">{}</td><td>{}</td><td>{}</td></tr>',
                mark_safe(' class="is-current"') if m.period == period else "",
                m.period,
                breakdown_label(m.breakdown),
                presentation.quantity(m.value, unit, m.breakdown),
                shares,
                origins[m.source_import_id],
                m.source_row or "–",
                person,
                stamps[m.updated_at],
            )
        )
    return mark_safe("\n".join(rows))


@register.simple_tag
def indicator_rows(factor, page, org_unit_code: str, period: str, national: bool = False) -> str:
    """One <tbody> per indicator of a success factor's table on the division page: its lines
    (breakdowns) and, under them, a manual status, the analysis and the values' comments.

    Written out here rather than in the template, as source_rows: a scorecard has about a
    hundred lines, and the template loop over them cost more than the rest of the page.
    """
    labels = {
        "breakdown": _("Uppdelning"),
        "target": _("Mål"),
        "follow_up": _("Uppföljningsperiod"),
        "value": _("Periodens utfall"),
        "status": _("Måluppfyllelse"),
        "trend": _("Utveckling"),
        "national": _("Riket (Kolada, helår)"),
    }
    corrected = format_html(' <a class="corrected" href="#corrections-heading">{}</a>', _("rättad"))
    corrections = page.corrections
    parts = []
    for group in factor.indicators:
        indicator = group.indicator
        lines = group.lines
        count = len(lines)
        state = group.state
        parts.append(
            format_html(
                '<tbody class="indicator" data-indicator="{}" data-state="{}">',
                indicator.code,
                state,
            )
        )
        for index, line in enumerate(lines):
            cells = []
            if index == 0:
                cells.append(
                    format_html(
                        '<th scope="rowgroup" rowspan="{}" class="indicator__name">'
                        '<a href="{}">{}</a>{}</th>',
                        count,
                        reverse(
                            "dashboard:indicator", args=[indicator.code, org_unit_code, period]
                        ),
                        indicator.name,
                        format_html(
                            '<span class="indicator__state">{}: {}</span>',
                            _("Styrmåttet"),
                            status_badge(state),
                        )
                        if count > 1 and state
                        else "",
                    )
                )
            cells.append(
                format_html(
                    '<td class="breakdown stack__full{}" data-label="{}">{}</td>'
                    '<td class="target" data-label="{}">{}</td>',
                    " breakdown--single" if count == 1 else "",
                    labels["breakdown"],
                    breakdown_label(line.breakdown),
                    labels["target"],
                    line_target(line),
                )
            )
            if index == 0:
                cells.append(
                    format_html(
                        '<td rowspan="{}" class="follow-up stack__full" data-label="{}">{}</td>',
                        count,
                        labels["follow_up"],
                        presentation.follow_up(indicator.follow_up),
                    )
                )
            value = (
                line_value(line)
                if line.value is not None
                else mark_safe('<span class="muted">–</span>')
            )
            change = (
                corrections.by_key.get(f"{indicator.code}/{line.breakdown}")
                if corrections
                else None
            )
            cells.append(
                format_html(
                    '<td class="num" data-label="{}">{}{}{}{}</td>',
                    labels["value"],
                    value,
                    _coverage(line),
                    _note_ref(getattr(line, "note_number", 0) if getattr(line, "note", "") else 0),
                    corrected if change else "",
                )
            )
            if national:
                cells.append(_national_cell(line, labels["national"]))
            cells.append(
                format_html(
                    '<td data-label="{}">{}</td><td data-label="{}">{}</td>',
                    labels["status"],
                    status_badge(line.status),
                    labels["trend"],
                    trend_badge(line.trend),
                )
            )
            parts.append(format_html("<tr>{}</tr>", mark_safe("".join(cells))))
        parts.append(_analysis_row(lines, columns=8 if national else 7))
        parts.append(mark_safe("</tbody>"))
    return mark_safe("\n".join(parts))


def _note_ref(number: int) -> str:
    """The footnote marker of a cell's published comment (as _note_ref.html)."""
    if not number:
        return ""
    return format_html(
        '<sup class="note-ref">'
        '<a href="#note-{0}" id="note-ref-{0}" aria-label="{1}">{0}</a></sup>',
        number,
        _("Kommentar %(number)s") % {"number": number},
    )


def _national_cell(line, label: str) -> str:
    """The country's latest annual value of the line's figure (Kolada), with its year."""
    if line.national_value is None:
        return format_html(
            '<td class="num" data-label="{}"><span class="muted">–</span></td>', label
        )
    return format_html(
        '<td class="num" data-label="{}">{} <span class="muted">({})</span></td>',
        label,
        presentation.quantity(line.national_value, line.indicator.unit, line.breakdown),
        line.national_year,
    )


def _coverage(line) -> str:
    """What the value adds up from (as _coverage.html)."""
    aggregate = getattr(line, "aggregate", None)
    if getattr(line, "aggregated", False):
        return format_html(
            '<span class="coverage">{}</span>',
            _("summerat från %(covered)s av %(expected)s enheter")
            % {"covered": aggregate.covered, "expected": aggregate.expected},
        )
    if aggregate:
        return format_html(
            '<span class="coverage">{}</span>',
            _("eget värde; enheterna summerar till %(value)s (%(covered)s av %(expected)s)")
            % {
                "value": number(aggregate.value),
                "covered": aggregate.covered,
                "expected": aggregate.expected,
            },
        )
    return ""


def _analysis_row(lines, *, columns: int) -> str:
    assessment = lines[0].assessment
    override = getattr(assessment, "override_status", "")
    analysis = getattr(assessment, "analysis", "")
    comments = [
        (line.breakdown, line.measurement.comment)
        for line in lines
        if getattr(line.measurement, "comment", "")
    ]
    first_comment = getattr(lines[0].measurement, "comment", "")
    if not (override or analysis or first_comment):
        return ""
    parts = []
    if override:
        parts.append(
            format_html(
                "<p><strong>{}:</strong> {} ({}: {}) – {}</p>",
                _("Manuell bedömning"),
                status_badge(override),
                _("beräknad"),
                status_badge(assessment.computed_status),
                assessment.override_comment,
            )
        )
    if analysis:
        parts.append(
            format_html("<p><strong>{}:</strong> {}</p>", _("Analys"), linebreaksbr(analysis))
        )
    for breakdown, comment in comments:
        parts.append(
            format_html('<p class="muted">{}: {}</p>', breakdown_label(breakdown), comment)
        )
    return format_html(
        '<tr class="indicator__analysis"><td colspan="{}">{}</td></tr>',
        columns,
        mark_safe("".join(parts)),
    )


@register.simple_tag
def history_rows(page, org_unit_code: str, period: str) -> str:
    """The indicator page's table of values over time, one row per period (as source_rows:
    a monthly indicator has a hundred periods, a template loop costs more than the page)."""
    unit = page.indicator.unit
    code = page.indicator.code
    notes = page.note_numbers
    rows = []
    for row in page.history:
        current = row.period == period
        head = (
            row.period
            if current
            else format_html(
                '<a href="{}">{}</a>',
                reverse("dashboard:indicator", args=[code, org_unit_code, row.period]),
                row.period,
            )
        )
        values = []
        for breakdown in page.breakdowns:
            m = row.values.get(breakdown)
            values.append(
                format_html(
                    '<td class="num">{}{}</td>',
                    presentation.quantity(m.value, unit, breakdown)
                    if m
                    else mark_safe('<span class="muted">–</span>'),
                    _note_ref(notes.get(row.period, {}).get(breakdown, 0)),
                )
            )
        several = len(row.thresholds) > 1
        targets = mark_safe(  # each part escaped by format_html
            "<br>".join(
                format_html(
                    "{}{}",
                    f"{breakdown_label(key)}: " if several else "",
                    presentation.quantity(t, unit, key),
                )
                for key, t in row.thresholds.items()
            )
        )
        rows.append(
            format_html(
                '<tr{}><th scope="row">{}</th>{}<td class="num">{}</td><td>{}</td><td>{}</td></tr>',
                mark_safe(' class="is-current"') if current else "",
                head,
                mark_safe("".join(values)),
                targets or "–",
                status_badge(row.status),
                trend_badge(row.trend),
            )
        )
    return mark_safe("\n".join(rows))


@register.simple_tag
def comparison_rows(page, period: str) -> str:
    """The indicator page's units compared, one row per unit (as history_rows)."""
    unit = page.indicator.unit
    breakdown = page.comparison_breakdown
    code = page.indicator.code
    value_label, target_label, status_text = _("Utfall"), _("Mål"), _("Måluppfyllelse")
    missing = format_html('<span class="muted">{}</span>', _("saknas"))
    rows = []
    for row in page.comparison:
        rows.append(
            format_html(
                '<tr{}><th scope="row"><a href="{}"{}>{}</a></th>'
                '<td class="num" data-label="{}">{}</td><td class="num" data-label="{}">{}</td>'
                '<td class="stack__full" data-label="{}">{}</td></tr>',
                mark_safe(' class="is-current"') if row.current else "",
                reverse("dashboard:indicator", args=[code, row.org_unit.code, period]),
                mark_safe(' aria-current="page"') if row.current else "",
                row.org_unit.name,
                value_label,
                presentation.quantity(row.value, unit, breakdown)
                if row.value is not None
                else missing,
                target_label,
                presentation.quantity(row.threshold, unit, breakdown)
                if row.threshold is not None
                else "–",
                status_text,
                status_badge(row.status),
            )
        )
    return mark_safe("\n".join(rows))
