"""Presentation of statuses, trends and numbers: symbol and text, never colour alone."""

from decimal import Decimal
from functools import lru_cache

from django import template
from django.conf import settings
from django.utils import translation
from django.utils.dateformat import format as date_format
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from dashboard.charts import BREAKDOWN_LABELS, STATUS_SYMBOLS
from domain.periods import PeriodKind
from indicators.models import TrendChoices
from scorecard.models import StatusChoices

register = template.Library()

TREND_SYMBOLS = {"improved": "↑", "unchanged": "→", "worsened": "↓", "no_data": ""}
# The follow-up codes of the region's reports: DÅ04/DÅ08 = interim reports April/August.
FOLLOW_UP_LABELS = {
    "T1": _("DÅ04"),
    "T2": _("DÅ08"),
    "T3": _("T3"),
    "YEAR": _("ÅR"),
    "MONTH": _("månad"),
}
PERIOD_KIND_LABELS = {
    PeriodKind.TERTIAL: _("Tertial"),
    PeriodKind.YEAR: _("År"),
    PeriodKind.MONTH: _("Månad"),
}
# Period kinds as they appear in addresses (/over-tid/<org>/tertial/).
PERIOD_KIND_SLUGS = {
    PeriodKind.TERTIAL: "tertial",
    PeriodKind.YEAR: "ar",
    PeriodKind.MONTH: "manad",
}


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
        StatusChoices(status).label,
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
            TrendChoices(trend).label,
        )
    return format_html('<span class="trend trend--{}">{}</span>', trend, TrendChoices(trend).label)


@register.filter
def number(value) -> str:
    """Locale number format: '29 191' and '92,5' in Swedish, '29,191' and '92.5' in English."""
    if value is None or value == "":
        return ""
    try:
        value = Decimal(str(value)).normalize()
    except ArithmeticError:
        return str(value)
    places = max(0, -value.as_tuple().exponent)
    decimal_mark, thousands = _separators(get_language() or settings.LANGUAGE_CODE)
    # Python's own grouping, then the locale's marks: the same result as Django's
    # number_format(force_grouping=True) at a tenth of its cost (pages format thousands).
    text = f"{value:,.{places}f}"
    return text.replace(",", "\0").replace(".", decimal_mark).replace("\0", thousands)


@lru_cache(maxsize=8)
def _separators(language: str) -> tuple[str, str]:
    with translation.override(language):
        return get_format("DECIMAL_SEPARATOR"), get_format("THOUSAND_SEPARATOR")


@register.filter
def breakdown_label(key: str) -> str:
    return BREAKDOWN_LABELS.get(key, key)


@register.filter
def status_label(status: str) -> str:
    return str(StatusChoices(status).label) if status else ""


@register.filter
def status_symbol(status: str) -> str:
    return STATUS_SYMBOLS.get(status, "")


@register.filter
def follow_up(codes) -> str:
    return ", ".join(str(FOLLOW_UP_LABELS.get(code, code)) for code in codes or [])


@register.filter
def kind_label(kind) -> str:
    return str(PERIOD_KIND_LABELS.get(PeriodKind(kind), kind))


@register.filter
def kind_slug(kind) -> str:
    return PERIOD_KIND_SLUGS[PeriodKind(kind)]


@register.filter
def unit_suffix(indicator) -> str:
    """' %' after a share's value (the counts written beside a share have no suffix)."""
    return " %" if indicator.unit == "percent" else ""


@register.filter
def lookup(mapping, key):
    return mapping.get(key) if mapping else None


@register.inclusion_tag("dashboard/_chart.html")
def chart(figure, chart_id: str, caption_id: str):
    """A Plotly figure: its JSON in a data script, drawn by static/js/charts.js."""
    return {
        "figure": figure.to_plotly_json(),
        "chart_id": chart_id,
        "data_id": f"{chart_id}-data",
        "caption_id": caption_id,
    }


def _person(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


@register.simple_tag
def source_rows(measurements, period: str) -> str:
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
                number(m.value),
                shares,
                origins[m.source_import_id],
                m.source_row or "–",
                person,
                stamps[m.updated_at],
            )
        )
    return mark_safe("\n".join(rows))
