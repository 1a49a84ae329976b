"""How the read side shows things: the one home for labels, symbols, colours and numbers.

Pages (through templatetags/styrkort.py), charts and the PDF/XLSX exports all take their
words and marks from here, so that a status reads the same wherever it appears. A status
never rests on colour alone: each has a symbol and a word, and in charts a fill pattern.
Colours are from the Okabe-Ito palette, told apart with the common forms of colour
blindness. Nothing here decides a status; it only shows the one the selectors read.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.utils import translation
from django.utils.formats import get_format
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from domain.periods import PeriodKind
from domain.rules import ReportStatus
from indicators.models import TrendChoices, Unit
from scorecard.models import StatusChoices

# --------------------------------------------------------------------------- statuses

# The bars of the charts: goal fulfilment, and the indicators still waiting for a value.
STATUS_ORDER = ("fulfilled", "partly", "not_fulfilled", "no_data")
# Every state a report row can show (domain.rules.ReportStatus), in the legend's order.
STATES = tuple(state.value for state in ReportStatus)
STATUS_SYMBOLS = {
    "fulfilled": "●",
    "partly": "◐",
    "not_fulfilled": "○",
    "no_data": "–",
    "no_reference": "◇",
    "not_due": "◌",
    "not_assessed": "·",
}
# Each state in words. "no_data" was once all of "no value", "not due" and "nothing to
# compare with"; each now has its own words (a frozen report keeps the code it stored).
STATUS_LABELS = {
    "fulfilled": StatusChoices.FULFILLED.label,
    "partly": StatusChoices.PARTLY.label,
    "not_fulfilled": StatusChoices.NOT_FULFILLED.label,
    "no_data": _("Utfall saknas"),
    "no_reference": _("Jämförelsevärde saknas"),
    "not_due": _("Ej aktuellt denna period"),
    "not_assessed": StatusChoices.NOT_ASSESSED.label,
}
# What each state means, for the legend.
STATUS_EXPLANATIONS = {
    "fulfilled": _("utfallet når målet."),
    "partly": _("utfallet ligger nära målet (inom en tiondel)."),
    "not_fulfilled": _("utfallet ligger längre från målet än så."),
    "no_data": _("styrmåttet ska följas upp den här perioden, men inget utfall är rapporterat."),
    "no_reference": _(
        "utfallet finns, men målet (till exempel öka eller minska) jämförs med ett tidigare "
        "utfall som saknas."
    ),
    "not_due": _(
        "styrmåttet följs inte upp den här perioden (till exempel bara på helår, ÅR); "
        "se uppföljningsperioden."
    ),
    "not_assessed": _("styrmåttet har inget mål och bedöms inte, det följs bara upp."),
}
# How many indicators are in a state, read aloud after the symbol ("3 uppfyllda").
STATUS_COUNT_WORDS = {
    "fulfilled": _("uppfyllda"),
    "partly": _("delvis uppfyllda"),
    "not_fulfilled": _("ej uppfyllda"),
    "no_data": _("utan utfall"),
    "no_reference": _("utan jämförelsevärde"),
    "not_due": _("ej aktuella denna period"),
    "not_assessed": _("följs upp utan mål"),
}
STATUS_COLOURS = {
    "fulfilled": "#009E73",  # bluish green
    "partly": "#F0E442",  # yellow
    "not_fulfilled": "#D55E00",  # vermillion
    "no_data": "#BBBBBB",
    "no_reference": "#BBBBBB",
    "not_due": "#BBBBBB",
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
    "no_reference": "#ececec",
}


def status_label(status: str) -> str:
    """The state in words; "" for none (charts name that case themselves)."""
    if not status:
        return ""
    label = STATUS_LABELS.get(status)
    if label is None:
        return str(StatusChoices(status).label) if status in StatusChoices.values else status
    return str(label)


def status_symbol(status: str) -> str:
    return STATUS_SYMBOLS.get(status, "")


def status_explanation(status: str) -> str:
    return str(STATUS_EXPLANATIONS.get(status, ""))


def status_count_word(status: str) -> str:
    return str(STATUS_COUNT_WORDS.get(status, status))


# --------------------------------------------------------------------------- trends

TREND_SYMBOLS = {"improved": "↑", "unchanged": "→", "worsened": "↓", "no_data": ""}


def trend_label(trend: str) -> str:
    return str(TrendChoices(trend).label) if trend in TrendChoices.values else str(trend or "")


# --------------------------------------------------------------------------- breakdowns

BREAKDOWN_LABELS = {
    "total": _("Totalt"),
    "women": _("Kvinnor"),
    "men": _("Män"),
    "count": _("Antal"),
    "share_pct": _("Andel (%)"),
    "count_vtf_total": _("Antal vårdtillfällen"),
    "count_vtf_utskrivningsklara_gt1d": _("Antal utskrivningsklara mer än 1 dygn"),
    "lakare": _("Läkare"),
    "sjukskoterskor": _("Sjuksköterskor"),
}
_AGE_GROUP = re.compile(r"age(\d{1,3})_(women|men)")
AGE_GROUP_LABELS = {"women": _("Kvinnor %(age)s år"), "men": _("Män %(age)s år")}
# Breakdowns whose values are of another kind than their indicator's: a count written
# beside a share, a share beside a count. The others share their indicator's unit.
BREAKDOWN_UNITS = {"share_pct": Unit.PERCENT, "count": Unit.COUNT}


# Line colour, dash and marker per breakdown in charts: told apart by dash too, not by colour.
BREAKDOWN_STYLES = {
    "total": ("#00304d", "solid", "circle"),
    "women": ("#CC79A7", "dash", "diamond"),
    "men": ("#0072B2", "dot", "square"),
}
OTHER_STYLES = [("#E69F00", "dashdot", "triangle-up"), ("#56B4E9", "longdash", "x")]


def breakdown_label(key: str) -> str:
    """A breakdown in words: "Kvinnor", "Kvinnor 40 år", "Antal vårdtillfällen". A key the
    table does not know is written out ("sjukskoterskor_natt" -> "Sjukskoterskor natt"),
    never shown as a code."""
    label = BREAKDOWN_LABELS.get(key)
    if label is not None:
        return str(label)
    age = _AGE_GROUP.fullmatch(key or "")
    if age:
        return str(AGE_GROUP_LABELS[age[2]] % {"age": age[1]})
    words = " ".join(part for part in re.split(r"[_\s]+", key or "") if part)
    if words.startswith("count ") and len(words) > 6:
        return str(_("Antal, %(what)s") % {"what": words[6:]})
    return capfirst(words) if words else ""


def breakdown_unit(breakdown: str, unit: str) -> str:
    """The unit of a breakdown's values: its indicator's, unless the breakdown is a count or
    a share written beside the indicator's own figure."""
    if breakdown in BREAKDOWN_UNITS:
        return BREAKDOWN_UNITS[breakdown]
    if breakdown.startswith("count_"):
        return Unit.COUNT
    if breakdown.endswith("_pct"):
        return Unit.PERCENT
    return unit


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
    """' %' after a share's value on a chart axis (the counts written beside a share have
    no suffix)."""
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
    if not value.is_finite():
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


# A value with its unit, as the language writes it: Swedish puts a space before "%" and
# writes "mnkr" and "st". Index, ratio and unknown units have none. The spaces are shown as
# no-break spaces, so that a value never wraps away from its unit.
UNIT_FORMATS = {
    Unit.PERCENT: _("%(number)s %%"),
    Unit.MSEK: _("%(number)s mnkr"),
    Unit.COUNT: _("%(number)s st"),
}


def _unit_format(unit: str) -> str | None:
    pattern = UNIT_FORMATS.get(unit)
    return None if pattern is None else str(pattern).replace(" ", "\u00a0")


def quantity(value, unit: str, breakdown: str = "total") -> str:
    """A value with its unit: '17,1 %', '-31 mnkr', '6 171 st' ('' for no value)."""
    text = number(value)
    if not text:
        return ""
    pattern = _unit_format(breakdown_unit(breakdown, unit))
    return pattern % {"number": text} if pattern is not None else text


def national_text(line) -> str:
    """The country's value of a report line as the division page's "Riket" column shows it:
    '82,6 % (2022)', or '–' where Kolada has none (a line frozen before the comparison too)."""
    value = getattr(line, "national_value", None)
    if value is None:
        return "–"
    return f"{quantity(value, line.indicator.unit, line.breakdown)} ({line.national_year})"


def has_national(lines) -> bool:
    """A "Riket" column only where some line has the country's value."""
    return any(getattr(line, "national_value", None) is not None for line in lines)


NATIONAL_HEADER = _("Riket (Kolada, helår)")


_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PERCENT_AFTER_DIGIT = re.compile(r"(\d)[ \u00a0\u202f]?%")


def target_text(target: str, unit: str, breakdown: str = "total") -> str:
    """A target as the report shows it: a bare figure gets its unit ("16" -> "16 %"), and a
    target text the space before "%" that Swedish writes ("95%" -> "95 %")."""
    if not target:
        return ""
    if _PLAIN_NUMBER.fullmatch(target):
        return quantity(Decimal(target), unit, breakdown)
    return _PERCENT_AFTER_DIGIT.sub("\\1\u00a0%", target)


def xlsx_number_format(value, unit: str, breakdown: str = "total") -> str:
    """An Excel number format showing the value as the pages do: grouped thousands, its own
    decimals and the unit ('#,##0.0"\u00a0%"'). Excel and LibreOffice put in the reader's
    decimal mark and thousands separator, so a Swedish reader sees '17,1 %', '6 171 st'."""
    places = 0
    if value is not None:
        exponent = Decimal(str(value)).normalize().as_tuple().exponent
        places = min(max(0, -exponent), 6) if isinstance(exponent, int) else 0
    core = "#,##0" + ("." + "0" * places if places else "")
    pattern = _unit_format(breakdown_unit(breakdown, unit))
    if pattern is None:
        return core
    before, _sep, after = pattern.replace("%%", "%").partition("%(number)s")
    quoted = [f'"{part}"' if part else "" for part in (before, after)]
    return quoted[0] + core + quoted[1]


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
    "note": _("Cellkommentar"),
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
