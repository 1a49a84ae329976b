"""One indicator at one org unit: its series over a follow-up kind and its units compared."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from benchmarks.selectors import NationalComparison, national_comparison
from dashboard.selectors.division import ancestors_of
from dashboard.selectors.overview import valid_during
from dashboard.selectors.report import author_name
from divisions.models import OrgUnit
from domain.periods import PERIOD_KIND_REGEX, Period, PeriodKind
from domain.rules import TargetKind, has_deciding_value, report_status, report_trend
from indicators.models import (
    Aggregate,
    Assessment,
    CellComment,
    CommentState,
    Measurement,
    Placement,
    Target,
)
from indicators.scorecards import placement_for


@dataclass(frozen=True)
class HistoryRow:
    period: str
    values: dict[str, Measurement]  # breakdown -> measurement
    thresholds: dict[str, Decimal]  # breakdown -> the effective target it was judged against
    status: str  # the state as the report shows it (domain.rules.report_status)
    trend: str
    assessment: Assessment | None


@dataclass(frozen=True)
class ComparisonRow:
    org_unit: OrgUnit
    measurement: Measurement | None
    status: str
    threshold: Decimal | None
    current: bool  # the org unit the page is about

    @property
    def value(self) -> Decimal | None:
        return self.measurement.value if self.measurement else None


@dataclass(frozen=True)
class Coverage:
    breakdown: str
    aggregate: Aggregate
    missing: list[OrgUnit]


@dataclass(frozen=True)
class CellNote:
    """A published cell comment of the series, numbered as the page lists it."""

    number: int
    period: str
    breakdown: str
    text: str
    author: str


@dataclass(frozen=True)
class IndicatorPage:
    indicator: Placement  # as the unit's scorecard places it; .indicator is the catalogue
    target_text: str  # the target the unit is judged against, as the scorecard writes it
    coverage: list[Coverage]  # the children's sums of the period, with their missing units
    org_unit: OrgUnit
    period: str
    kind: PeriodKind
    kinds: list[PeriodKind]  # follow-up kinds with values at this org unit
    periods: list[str]  # periods of this kind with values, newest first
    ancestors: list[OrgUnit]
    breakdowns: list[str]  # those with a value in the series, in the indicator's order
    history: list[HistoryRow]  # chronological
    current: HistoryRow | None
    comparison_parent: OrgUnit  # whose units are compared
    comparison_breakdown: str
    comparison: list[ComparisonRow]  # sorted by value, highest first; units without value last
    latest_by_kind: dict[PeriodKind, str]  # the newest period of each kind, for the kind links
    sources: list[Measurement]  # every value of the series, newest first, with its source
    # The period's state and trend as the report shows them (domain.rules.report_status).
    state: str = ""
    trend: str = ""
    # The region beside the country and its peers, from Kolada (annual); None: not mapped.
    national: NationalComparison | None = None
    # The series' cell comments in table order (chronological, breakdowns as placed).
    notes: list[CellNote] = field(default_factory=list)

    @property
    def note_numbers(self) -> dict[str, dict[str, int]]:
        """period -> breakdown -> the footnote number of its comment."""
        numbers: dict[str, dict[str, int]] = defaultdict(dict)
        for note in self.notes:
            numbers[note.period][note.breakdown] = note.number
        return dict(numbers)

    @property
    def earlier_analyses(self) -> list[HistoryRow]:
        rows = [r for r in self.history if r.period != self.period and r.assessment]
        return [r for r in reversed(rows) if r.assessment.analysis]

    @property
    def has_comments(self) -> bool:
        return bool(self.current) and any(m.comment for m in self.current.values.values())

    @property
    def split(self) -> bool:
        return "women" in self.breakdowns and "men" in self.breakdowns


def indicator_for(code: str, org_unit: OrgUnit, period: str) -> Placement | None:
    """The indicator as the scorecard the org unit follows in the period places it."""
    return placement_for(org_unit, Period.parse(period).year, code)


def indicator_page(placement: Placement, org_unit: OrgUnit, period: str) -> IndicatorPage:
    """One indicator at one org unit: its series over one follow-up kind and its units."""
    indicator = placement.indicator
    kind = Period.parse(period).kind
    series: dict[str, dict[str, Measurement]] = defaultdict(dict)
    latest: dict[PeriodKind, str] = {}
    own = Measurement.objects.filter(indicator=indicator, org_unit=org_unit)
    summed = Aggregate.objects.filter(indicator=indicator, org_unit=org_unit)
    for code in (
        own.values_list("period", flat=True)
        .union(summed.values_list("period", flat=True))
        .order_by()
    ):
        period_kind = Period.parse(code).kind
        if period_kind not in latest or Period.sort_key(code) > Period.sort_key(
            latest[period_kind]
        ):
            latest[period_kind] = code
    sources: list[Measurement] = list(
        Measurement.objects.filter(
            indicator=indicator, org_unit=org_unit, period__regex=PERIOD_KIND_REGEX[kind]
        ).select_related("source_import__user", "entered_by")
    )
    # The children's sums where the unit has no value of its own (marked on the page).
    sums = list(summed.filter(period__regex=PERIOD_KIND_REGEX[kind]))
    for a in sums:
        series[a.period][a.breakdown] = a
    for m in sources:
        series[m.period][m.breakdown] = m
    order = {b: i for i, b in enumerate(placement.breakdowns)}
    sources.sort(key=lambda m: (m.period, -order.get(m.breakdown, 99)), reverse=True)
    assessments = {
        a.period: a
        for a in Assessment.objects.filter(
            indicator=indicator, org_unit=org_unit, period__regex=PERIOD_KIND_REGEX[kind]
        ).select_related("override_by")
    }
    target_text, assessable = target_of(placement, org_unit, period)
    history = [
        _history_row(p, series.get(p, {}), assessments.get(p), placement, assessable)
        for p in sorted(set(series) | set(assessments))
    ]
    current = next((row for row in history if row.period == period), None)
    state = (
        current.status
        if current is not None
        else report_status(
            None,
            has_value=False,
            due=Period.parse(period).is_due(placement.follow_up),
            assessable=assessable,
        ).value
    )
    present = {b for row in history for b in row.values}
    parent, units = _comparison_units(org_unit, period)
    breakdown = "total" if "total" in placement.breakdowns else placement.breakdowns[0]
    comparison = _comparison(placement, units, period, breakdown, org_unit, assessable)
    if not any(row.value is not None for row in comparison) and parent == org_unit:
        fallback = _comparison_of_children(placement, org_unit, period, breakdown, assessable)
        comparison = fallback or comparison
    return IndicatorPage(
        indicator=placement,
        target_text=target_text,
        coverage=_coverage([a for a in sums if a.period == period], placement.breakdowns),
        org_unit=org_unit,
        period=period,
        kind=kind,
        kinds=[k for k in PeriodKind if k in latest],
        periods=sorted(series, reverse=True),
        ancestors=ancestors_of(org_unit),
        breakdowns=[b for b in placement.breakdowns if b in present],
        history=history,
        current=current,
        comparison_parent=parent,
        comparison_breakdown=breakdown,
        comparison=comparison,
        latest_by_kind=latest,
        sources=sources,
        state=state,
        trend=current.trend if current is not None else "",
        national=national_comparison(indicator),
        notes=_notes(
            placement,
            org_unit,
            kind,
            {row.period for row in history},
            [b for b in placement.breakdowns if b in present],
        ),
    )


def _notes(
    placement: Placement,
    org_unit: OrgUnit,
    kind: PeriodKind,
    periods: set[str],
    breakdowns: list[str],
) -> list[CellNote]:
    """The published comments on the cells of the series table, numbered in its order."""
    order = {b: i for i, b in enumerate(breakdowns)}
    comments = sorted(
        (
            c
            for c in CellComment.objects.filter(
                indicator_id=placement.indicator_id,
                org_unit=org_unit,
                period__regex=PERIOD_KIND_REGEX[kind],
                state=CommentState.PUBLISHED,
            ).select_related("author")
            if c.period in periods and c.breakdown in breakdowns
        ),
        key=lambda c: (Period.sort_key(c.period), order.get(c.breakdown, 99)),
    )
    return [
        CellNote(number, c.period, c.breakdown, c.text, author_name(c.author))
        for number, c in enumerate(comments, start=1)
    ]


def target_of(placement: Placement, org_unit: OrgUnit, period: str) -> tuple[str, bool]:
    """The nearest target of the unit's lineage for the period's or the scorecard's year, as
    written; and whether any of them judges a value (the report's `assessable`)."""
    year = Period.parse(period).year
    targets = (
        Target.objects.filter(indicator_id=placement.indicator_id)
        .filter(Q(year__in=[year, placement.scorecard.year]) | Q(year__isnull=True))
        .filter(Q(org_unit__isnull=True) | Q(org_unit__code__in=org_unit.lineage_codes))
        .select_related("org_unit")
    )
    years = (year, placement.scorecard.year, None)
    ranked = sorted(
        targets,
        key=lambda t: (
            -len(t.org_unit.path) if t.org_unit else 0,
            t.breakdown != "",
            years.index(t.year),
            t.pk,
        ),
    )
    text = (ranked[0].text or ranked[0].get_kind_display()) if ranked else ""
    return text, any(t.kind != TargetKind.NONE for t in ranked)


def _coverage(sums: list[Aggregate], breakdowns: list[str]) -> list[Coverage]:
    codes = {code for a in sums for code in a.missing_units}
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)} if codes else {}
    order = {b: i for i, b in enumerate(breakdowns)}
    return [
        Coverage(a.breakdown, a, [units[c] for c in a.missing_units if c in units])
        for a in sorted(sums, key=lambda a: order.get(a.breakdown, 99))
    ]


def _history_row(
    period: str,
    values: dict[str, Measurement],
    a: Assessment | None,
    placement: Placement,
    assessable: bool,
) -> HistoryRow:
    thresholds = {}
    if a is not None:
        for breakdown, detail in a.details.items():
            if (detail or {}).get("threshold") is not None:
                thresholds[breakdown] = Decimal(detail["threshold"])
    has_value = has_deciding_value(placement.breakdowns, values)
    return HistoryRow(
        period=period,
        values=values,
        thresholds=thresholds,
        status=report_status(
            a.status if a else None,
            has_value=has_value,
            due=Period.parse(period).is_due(placement.follow_up),
            assessable=assessable,
        ).value,
        trend=report_trend(a.trend if a else None, has_value=has_value),
        assessment=a,
    )


def _comparison_units(org_unit: OrgUnit, period: str) -> tuple[OrgUnit, list[OrgUnit]]:
    """The leaf units under the org unit; for a leaf, its siblings under the parent."""
    units = list(OrgUnit.objects.filter(valid_during(period), org_unit.subtree_q()))
    parent = org_unit
    if len(units) == 1 and org_unit.parent_id is not None:
        parent = OrgUnit.objects.get(pk=org_unit.parent_id)
        units = list(OrgUnit.objects.filter(valid_during(period), parent.subtree_q()))
    parents = {u.parent_id for u in units}
    leaves = [u for u in units if u.pk not in parents and u.pk != parent.pk]
    return parent, leaves


def _comparison_of_children(
    placement: Placement, org_unit: OrgUnit, period: str, breakdown: str, assessable: bool
) -> list[ComparisonRow]:
    """When no leaf unit has a value (a figure divisions report, compared on the region's
    page): the unit's children with their own value, else their units' sum."""
    children = list(OrgUnit.objects.filter(valid_during(period), parent=org_unit))
    rows = _comparison(placement, children, period, breakdown, org_unit, assessable, sums=True)
    return rows if any(r.value is not None for r in rows) else []


def _comparison(
    placement: Placement,
    units: list[OrgUnit],
    period: str,
    breakdown: str,
    current: OrgUnit,
    assessable: bool,
    *,
    sums: bool = False,
) -> list[ComparisonRow]:
    """The units' values of one breakdown, each with its state as its report shows it;
    `sums`: a unit without its own value shows its units' sum."""
    due = Period.parse(period).is_due(placement.follow_up)
    key = {
        "indicator": placement.indicator,
        "period": period,
        "breakdown": breakdown,
        "org_unit__in": [u.pk for u in units],
    }
    values = {a.org_unit_id: a for a in Aggregate.objects.filter(**key)} if sums else {}
    values.update({m.org_unit_id: m for m in Measurement.objects.filter(**key)})
    del key["breakdown"]
    assessed = {a.org_unit_id: a for a in Assessment.objects.filter(**key)}
    rows = []
    for unit in units:
        a = assessed.get(unit.pk)
        threshold = ((a.details.get(breakdown) or {}).get("threshold")) if a else None
        measurement = values.get(unit.pk)
        rows.append(
            ComparisonRow(
                org_unit=unit,
                measurement=measurement,
                status=report_status(
                    a.status if a else None,
                    has_value=measurement is not None,
                    due=due,
                    assessable=assessable,
                ).value,
                threshold=Decimal(threshold) if threshold is not None else None,
                current=unit.pk == current.pk,
            )
        )
    # Highest value first; units that reported nothing go last, by name.
    rows.sort(key=lambda r: (r.value is None, -(r.value or 0), r.org_unit.name))
    return rows
