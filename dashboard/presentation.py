"""How the read side shows things: the one home for labels, symbols, colours and numbers.

Pages (through templatetags/styrkort.py), charts and the PDF/XLSX exports all take their
words and marks from here, so that a status reads the same wherever it appears. A status
never rests on colour alone: each has a symbol and a word, and in charts a fill pattern.
Colours are from the Okabe-Ito palette, told apart with the common forms of colour
blindness. Nothing here decides a status; it only shows the one the selectors read.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.utils import translation
from django.utils.formats import get_format
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from domain.periods import PeriodKind
from indicators.models import TrendChoices, Unit
from scorecard.models import StatusChoices

# --------------------------------------------------------------------------- statuses

STATUS_ORDER = ("fulfilled", "partly", "not_fulfilled", "no_data")
STATUS_SYMBOLS = {
    "fulfilled": "●",
    "partly": "◐",
    "not_fulfilled": "○",
    "no_data": "–",
    "not_assessed": "·",
}
STATUS_COLOURS = {
    "fulfilled": "#009E73",  # bluish green
    "partly": "#F0E442",  # yellow
    "not_fulfilled": "#D55E00",  # vermillion
    "no_data": "#BBBBBB",
    "not_assessed": "#BBBBBB",
    "": "#BBBBBB",
}
STATUS_PATTERNS = {"fulfilled": "", "partly": "/", "not_fulfilled": "x", "no_data": "."}
# Light tints behind the status word in the PDF (the word carries the meaning).
STATUS_TINTS = {
    "fulfilled": "#d4efe5",
    "partly": "#fbf6c8",
    "not_fulfilled": "#f7dccb",
    "no_data": "#ececec",
}


def status_label(status: str) -> str:
    """The status in words; "" for none (charts name that case themselves)."""
    return str(StatusChoices(status).label) if status else ""


def status_symbol(status: str) -> str:
    return STATUS_SYMBOLS.get(status, "")


# --------------------------------------------------------------------------- trends

TREND_SYMBOLS = {"improved": "↑", "unchanged": "→", "worsened": "↓", "no_data": ""}


def trend_label(trend: str) -> str:
    return str(TrendChoices(trend).label) if trend else ""


# --------------------------------------------------------------------------- breakdowns

BREAKDOWN_LABELS = {
    "total": _("Totalt"),
    "women": _("Kvinnor"),
    "men": _("Män"),
}


# Line colour, dash and marker per breakdown in charts: told apart by dash too, not by colour.
BREAKDOWN_STYLES = {
    "total": ("#00304d", "solid", "circle"),
    "women": ("#CC79A7", "dash", "diamond"),
    "men": ("#0072B2", "dot", "square"),
}
OTHER_STYLES = [("#E69F00", "dashdot", "triangle-up"), ("#56B4E9", "longdash", "x")]


def breakdown_label(key: str) -> str:
    return str(BREAKDOWN_LABELS.get(key, key))


# --------------------------------------------------------------------------- periods

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


def follow_up(codes) -> str:
    return ", ".join(str(FOLLOW_UP_LABELS.get(code, code)) for code in codes or [])


def kind_label(kind) -> str:
    return str(PERIOD_KIND_LABELS.get(PeriodKind(kind), kind))


def kind_slug(kind) -> str:
    return PERIOD_KIND_SLUGS[PeriodKind(kind)]


# --------------------------------------------------------------------------- units and numbers


def unit_suffix(unit: str) -> str:
    """' %' after a share's value (the counts written beside a share have no suffix)."""
    return " %" if unit == Unit.PERCENT else ""


def unit_title(unit: str) -> str:
    """The unit as an axis title: "Procent", "Antal"; "" for an unknown unit."""
    return capfirst(str(Unit(unit).label)) if unit in Unit.values else ""


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


def number_separators() -> str:
    """Plotly's `separators`: decimal mark, then thousands separator."""
    return ".," if (get_language() or "sv").startswith("en") else ",\u00a0"


def coverage_text(aggregate, *, own_value: bool) -> str:
    """Which units a sum covers, for exports: "summerat från 3 av 5 enheter"."""
    if aggregate is None:
        return ""
    if own_value:
        return str(
            _("eget värde; enheterna summerar till %(value)s (%(covered)s av %(expected)s)")
            % {
                "value": number(aggregate.value),
                "covered": aggregate.covered,
                "expected": aggregate.expected,
            }
        )
    return str(
        _("summerat från %(covered)s av %(expected)s enheter")
        % {"covered": aggregate.covered, "expected": aggregate.expected}
    )


# --------------------------------------------------------------------------- corrections

# A corrected report's changed fields (dashboard.snapshot.line_changes), in words.
CORRECTION_FIELDS = {
    "perspective": _("Perspektiv"),
    "strategic_goal": _("Strategiskt mål"),
    "success_factor": _("Framgångsfaktor"),
    "name": _("Styrmått"),
    "unit": _("Enhet"),
    "target": _("Mål"),
    "value": _("Utfall"),
    "status": _("Måluppfyllelse"),
    "trend": _("Utveckling"),
    "comment": _("Kommentar"),
    "analysis": _("Analys"),
    "override_status": _("Manuell bedömning"),
    "override_comment": _("Motivering"),
}
CORRECTION_KINDS = {
    "changed": _("ändrad"),
    "added": _("ny rad"),
    "removed": _("borttagen rad"),
}


def correction_field(name: str) -> str:
    return str(CORRECTION_FIELDS.get(name, name))


def correction_kind(kind: str) -> str:
    return str(CORRECTION_KINDS.get(kind, kind))


def correction_value(change) -> tuple[str, str]:
    """A changed field's frozen and current value as the report writes them ("–" for none)."""
    return _shown(change.field, change.frozen), _shown(change.field, change.now)


def _shown(name: str, value) -> str:
    if value is None or value == "":
        return "–"
    if name == "value":
        return number(value)
    if name in ("status", "override_status"):
        return status_label(value) if value in StatusChoices.values else str(value)
    if name == "trend":
        return trend_label(value) if value in TrendChoices.values else str(value)
    if name == "unit":
        return str(Unit(value).label) if value in Unit.values else str(value)
    return str(value)
