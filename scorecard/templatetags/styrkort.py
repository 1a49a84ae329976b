"""Presentation of statuses, trends and numbers: symbol and text, never colour alone."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from indicators.models import TrendChoices
from scorecard.models import StatusChoices

register = template.Library()

STATUS_SYMBOLS = {
    "fulfilled": "●",
    "partly": "◐",
    "not_fulfilled": "○",
    "no_data": "–",
    "not_assessed": "·",
}
TREND_SYMBOLS = {"improved": "↑", "unchanged": "→", "worsened": "↓", "no_data": ""}
BREAKDOWN_LABELS = {"total": _("Totalt"), "women": _("Kvinnor"), "men": _("Män")}


@register.inclusion_tag("scorecard/_status.html")
def status_badge(status: str):
    if not status:
        return {"status": ""}
    return {
        "status": status,
        "symbol": STATUS_SYMBOLS.get(status, "?"),
        "label": StatusChoices(status).label,
    }


@register.inclusion_tag("scorecard/_trend.html")
def trend_badge(trend: str):
    if not trend:
        return {"trend": ""}
    return {
        "trend": trend,
        "symbol": TREND_SYMBOLS.get(trend, ""),
        "label": TrendChoices(trend).label,
    }


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
    return number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


@register.filter
def breakdown_label(key: str) -> str:
    return BREAKDOWN_LABELS.get(key, key)
