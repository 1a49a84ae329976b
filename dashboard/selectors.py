"""Reads for the scorecard: the division report as the region's reports show it."""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q

from divisions.models import OrgUnit, OrgUnitKind, RoleAssignment
from domain.periods import Period, PeriodKind
from domain.rules import Status, TargetKind, Trend, rollup
from indicators.models import Assessment, Indicator, Measurement, Target, effective_status
from indicators.selectors import (
    assessments_at,
    indicators_for,
    measurements_at,
    periods_with_data,
)
from scorecard.models import Action, Perspective, PerspectiveAssessment


@dataclass(frozen=True)
class ReportLine:
    perspective: str
    strategic_goal: str
    success_factor: str
    indicator: Indicator
    breakdown: str
    target: str
    value: Decimal | None
    status: str
    trend: str
    measurement: Measurement | None
    assessment: Assessment | None
    first_of_indicator: bool


def division_report(org_unit: OrgUnit, period: str) -> list[ReportLine]:
    """One line per indicator and breakdown, in scorecard order (a fixed number of queries).

    Each line shows its breakdown's stored status and trend; a manual override of the
    indicator replaces the status on every line that has one.
    """
    values = measurements_at(org_unit, period)
    assessments = assessments_at(org_unit, period)
    lines: list[ReportLine] = []
    # Only the targets that can apply to the period's year (a synthetic or long-lived
    # indicator has one per year; reading them all cost more than the rest of the page).
    year = Period.parse(period).year
    relevant = Target.objects.filter(Q(year=year) | Q(year__isnull=True)).order_by("pk")
    scorecard = indicators_for(org_unit).prefetch_related(None)
    for indicator in scorecard.prefetch_related(Prefetch("targets", queryset=relevant)):
        factor = indicator.success_factor
        assessment = assessments.get(indicator.pk)
        targets = list(indicator.targets.all())
        for index, breakdown in enumerate(indicator.breakdowns):
            measurement = values.get(indicator.pk, {}).get(breakdown)
            detail = (assessment.details.get(breakdown) if assessment else None) or {}
            if assessment is None:
                # Nothing measured at this unit and period: say so on the indicator's first line.
                first = index == 0
                assessable = any(t.kind != TargetKind.NONE for t in targets)
                status = (
                    (Status.NO_DATA if assessable else Status.NOT_ASSESSED).value if first else ""
                )
                trend = Trend.NO_DATA.value if first else ""
            else:
                status = detail.get("status") or ""
                if status and assessment.override_status:
                    status = assessment.override_status
                trend = detail.get("trend") or ""
            target = (
                detail.get("target_value")
                or detail.get("target")
                or (targets[0].text if targets and index == 0 else "")
            )
            lines.append(
                ReportLine(
                    perspective=factor.strategic_goal.perspective.name,
                    strategic_goal=factor.strategic_goal.name,
                    success_factor=factor.name,
                    indicator=indicator,
                    breakdown=breakdown,
                    target=target or "",
                    value=measurement.value if measurement else None,
                    status=status,
                    trend=trend,
                    measurement=measurement,
                    assessment=assessment,
                    first_of_indicator=index == 0,
                )
            )
    return lines


@dataclass
class IndicatorGroup:
    indicator: Indicator
    lines: list[ReportLine]


@dataclass
class FactorGroup:
    name: str
    indicators: list[IndicatorGroup]


@dataclass
class GoalGroup:
    name: str
    factors: list[FactorGroup]


@dataclass
class PerspectiveGroup:
    name: str
    goals: list[GoalGroup]


def group_report(lines: list[ReportLine]) -> list[PerspectiveGroup]:
    """Nest report lines as the page shows them: perspective > goal > factor > indicator."""
    groups: list[PerspectiveGroup] = []
    for line in lines:
        if not groups or groups[-1].name != line.perspective:
            groups.append(PerspectiveGroup(line.perspective, []))
        goals = groups[-1].goals
        if not goals or goals[-1].name != line.strategic_goal:
            goals.append(GoalGroup(line.strategic_goal, []))
        factors = goals[-1].factors
        if not factors or factors[-1].name != line.success_factor:
            factors.append(FactorGroup(line.success_factor, []))
        indicators = factors[-1].indicators
        if not indicators or indicators[-1].indicator.pk != line.indicator.pk:
            indicators.append(IndicatorGroup(line.indicator, []))
        indicators[-1].lines.append(line)
    return groups


# =========================================================================== the dashboard
#
# Every page of the dashboard reads through one function below, in a fixed number of
# queries whatever the number of periods, units and indicators. Statuses are the stored
# Assessments (override or computed); a perspective's status is the manager's perspective
# assessment where one is set, else the roll-up of domain.rules.


COUNTED_STATUSES = (
    Status.FULFILLED.value,
    Status.PARTLY.value,
    Status.NOT_FULFILLED.value,
    Status.NO_DATA.value,
)
_KIND_REGEX = {
    PeriodKind.YEAR: r"^[0-9]{4}$",
    PeriodKind.TERTIAL: r"^[0-9]{4}-T[1-3]$",
    PeriodKind.MONTH: r"^[0-9]{4}-[0-9]{2}$",
}


@dataclass(frozen=True)
class StatusCounts:
    """How many indicators have each status (not_assessed ones are not counted)."""

    fulfilled: int = 0
    partly: int = 0
    not_fulfilled: int = 0
    no_data: int = 0

    @classmethod
    def of(cls, counts: dict[str, int]) -> StatusCounts:
        return cls(**{s: counts.get(s, 0) for s in COUNTED_STATUSES})

    def __add__(self, other: StatusCounts) -> StatusCounts:
        return StatusCounts(*(getattr(self, s) + getattr(other, s) for s in COUNTED_STATUSES))

    @property
    def assessed(self) -> int:
        return self.fulfilled + self.partly + self.not_fulfilled

    @property
    def total(self) -> int:
        return self.assessed + self.no_data

    def items(self) -> list[tuple[str, int]]:
        return [(s, getattr(self, s)) for s in COUNTED_STATUSES]

    def rollup(self) -> str:
        statuses = [Status(s) for s, n in self.items() for _ in range(n)]
        return rollup(statuses).value


@dataclass(frozen=True)
class PerspectiveCell:
    """Goal fulfilment of one perspective at one org unit and period."""

    perspective: Perspective
    status: str
    counts: StatusCounts
    assessment: PerspectiveAssessment | None  # the manager's samlad bedömning, if set

    @property
    def from_assessment(self) -> bool:
        return self.assessment is not None


@dataclass(frozen=True)
class UnitRow:
    org_unit: OrgUnit
    cells: list[PerspectiveCell]


@dataclass(frozen=True)
class PerspectiveGrid:
    period: str
    perspectives: list[Perspective]
    rows: list[UnitRow]

    @property
    def totals(self) -> list[tuple[Perspective, StatusCounts]]:
        """Indicator counts per perspective, summed over the rows."""
        return [
            (perspective, sum((row.cells[i].counts for row in self.rows), StatusCounts()))
            for i, perspective in enumerate(self.perspectives)
        ]


def _cell(
    perspective: Perspective, counts: StatusCounts, assessment: PerspectiveAssessment | None
) -> PerspectiveCell:
    status = assessment.status if assessment is not None else counts.rollup()
    return PerspectiveCell(perspective, status, counts, assessment)


def perspective_grid(
    org_units: list[OrgUnit], period: str, perspectives: list[Perspective] | None = None
) -> PerspectiveGrid:
    """Org units x the five perspectives for one period (three queries)."""
    if perspectives is None:
        perspectives = list(Perspective.objects.all())
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for unit_id, perspective_id, status, n in (
        Assessment.objects.filter(org_unit__in=[u.pk for u in org_units], period=period)
        .annotate(
            shown=effective_status(),
            perspective_id=F("indicator__success_factor__strategic_goal__perspective_id"),
        )
        .values_list("org_unit_id", "perspective_id", "shown")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[(unit_id, perspective_id)][status] = n
    assessments = {
        (a.org_unit_id, a.perspective_id): a
        for a in PerspectiveAssessment.objects.filter(
            org_unit__in=[u.pk for u in org_units], period=period
        ).select_related("updated_by")
    }
    rows = [
        UnitRow(
            unit,
            [
                _cell(
                    p,
                    StatusCounts.of(counts.get((unit.pk, p.pk), {})),
                    assessments.get((unit.pk, p.pk)),
                )
                for p in perspectives
            ],
        )
        for unit in org_units
    ]
    return PerspectiveGrid(period, perspectives, rows)


def _valid_during(period: str) -> Q:
    """Org units that existed at some point of the period (reorganisations keep history)."""
    first, last = period_dates(period)
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=last)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=first)
    )


def period_dates(period: str) -> tuple[date, date]:
    parsed = Period.parse(period)
    if parsed.kind is PeriodKind.MONTH:
        first = date(parsed.year, parsed.number, 1)
        last = date(parsed.year, parsed.number, monthrange(parsed.year, parsed.number)[1])
        return first, last
    last_month = parsed.months_elapsed
    # Tertials are year-to-date, so they start in January like the year.
    return date(parsed.year, 1, 1), date(
        parsed.year, last_month, monthrange(parsed.year, last_month)[1]
    )


def divisions_during(period: str) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(_valid_during(period), kind=OrgUnitKind.DIVISION))


def overview_periods() -> list[str]:
    """Periods with an assessment at any division, newest first (as periods_with_data)."""
    periods = (
        Assessment.objects.filter(org_unit__kind=OrgUnitKind.DIVISION)
        .values_list("period", flat=True)
        .distinct()
        .order_by()
    )
    return sorted(periods, key=period_sort_key, reverse=True)


def period_sort_key(code: str) -> tuple[int, int]:
    """Newest last: within a year months, then tertials (year-to-date), then the year."""
    parsed = Period.parse(code)
    offset = {PeriodKind.MONTH: 0, PeriodKind.TERTIAL: 50, PeriodKind.YEAR: 99}[parsed.kind]
    return (
        parsed.year,
        offset + (4 * parsed.number if parsed.kind is PeriodKind.TERTIAL else parsed.number),
    )


@dataclass(frozen=True)
class RegionOverview:
    region: OrgUnit | None
    period: str
    periods: list[str]
    grid: PerspectiveGrid


def region_overview(period: str) -> RegionOverview:
    """The board's landing page: every division x the five perspectives."""
    return RegionOverview(
        region=OrgUnit.objects.filter(kind=OrgUnitKind.REGION).order_by("path").first(),
        period=period,
        periods=overview_periods(),
        grid=perspective_grid(divisions_during(period), period),
    )


def landing_org_unit(user) -> OrgUnit | None:
    """The org unit a user with a scoped role (division manager, reporter) lands on."""
    assignment = (
        RoleAssignment.objects.filter(user=user, org_unit__isnull=False)
        .select_related("org_unit")
        .order_by("org_unit__path")
        .first()
    )
    return assignment.org_unit if assignment else None


# --------------------------------------------------------------------------- division page


@dataclass(frozen=True)
class PerspectiveSection:
    perspective: Perspective
    cell: PerspectiveCell
    report: PerspectiveGroup | None  # the indicator table; None without indicators
    actions: list[Action]


@dataclass(frozen=True)
class DivisionPage:
    org_unit: OrgUnit
    period: str
    periods: list[str]
    ancestors: list[OrgUnit]  # region first, the unit itself excluded
    sections: list[PerspectiveSection]
    children: PerspectiveGrid  # the areas or units one level down
    lines: list[ReportLine]

    @property
    def cells(self) -> list[PerspectiveCell]:
        return [section.cell for section in self.sections]


def division_page(org_unit: OrgUnit, period: str) -> DivisionPage:
    """The division scorecard with its summary, action plan and drill-down."""
    perspectives = list(Perspective.objects.all())
    lines = division_report(org_unit, period)
    groups = {_perspective_id(group): group for group in group_report(lines)}
    children = list(OrgUnit.objects.filter(_valid_during(period), parent=org_unit).order_by("name"))
    grid = perspective_grid([org_unit, *children], period, perspectives)
    actions: dict[int, list[Action]] = defaultdict(list)
    for action in Action.objects.filter(org_unit=org_unit).select_related("success_factor"):
        actions[action.perspective_id].append(action)
    own = grid.rows[0].cells
    sections = [
        PerspectiveSection(p, own[i], groups.get(p.pk), actions.get(p.pk, []))
        for i, p in enumerate(perspectives)
    ]
    return DivisionPage(
        org_unit=org_unit,
        period=period,
        periods=periods_with_data(org_unit),
        ancestors=ancestors_of(org_unit),
        sections=sections,
        children=PerspectiveGrid(period, perspectives, grid.rows[1:]),
        lines=lines,
    )


def _perspective_id(group: PerspectiveGroup) -> int:
    indicator = group.goals[0].factors[0].indicators[0].indicator
    return indicator.success_factor.strategic_goal.perspective_id


def ancestors_of(org_unit: OrgUnit) -> list[OrgUnit]:
    codes = org_unit.path.strip("/").split("/")[:-1]
    return list(OrgUnit.objects.filter(code__in=codes).order_by("path")) if codes else []


# --------------------------------------------------------------------------- indicator page


@dataclass(frozen=True)
class HistoryRow:
    period: str
    values: dict[str, Measurement]  # breakdown -> measurement
    thresholds: dict[str, Decimal]  # breakdown -> the effective target it was judged against
    status: str  # "" when the period has no assessment
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
class IndicatorPage:
    indicator: Indicator
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


def indicator_for(code: str, org_unit: OrgUnit) -> Indicator | None:
    """The indicator if it is on the org unit's scorecard."""
    return indicators_for(org_unit).filter(code=code).first()


def indicator_page(indicator: Indicator, org_unit: OrgUnit, period: str) -> IndicatorPage:
    """One indicator at one org unit: its series over one follow-up kind and its units."""
    kind = Period.parse(period).kind
    series: dict[str, dict[str, Measurement]] = defaultdict(dict)
    latest: dict[PeriodKind, str] = {}
    for code in (
        Measurement.objects.filter(indicator=indicator, org_unit=org_unit)
        .values_list("period", flat=True)
        .distinct()
        .order_by()
    ):
        period_kind = Period.parse(code).kind
        if period_kind not in latest or period_sort_key(code) > period_sort_key(
            latest[period_kind]
        ):
            latest[period_kind] = code
    sources: list[Measurement] = list(
        Measurement.objects.filter(
            indicator=indicator, org_unit=org_unit, period__regex=_KIND_REGEX[kind]
        ).select_related("source_import__user", "entered_by")
    )
    for m in sources:
        series[m.period][m.breakdown] = m
    order = {b: i for i, b in enumerate(indicator.breakdowns)}
    sources.sort(key=lambda m: (m.period, -order.get(m.breakdown, 99)), reverse=True)
    assessments = {
        a.period: a
        for a in Assessment.objects.filter(
            indicator=indicator, org_unit=org_unit, period__regex=_KIND_REGEX[kind]
        ).select_related("override_by")
    }
    history = [
        _history_row(p, series.get(p, {}), assessments.get(p))
        for p in sorted(set(series) | set(assessments))
    ]
    present = {b for row in history for b in row.values}
    parent, units = _comparison_units(org_unit, period)
    breakdown = "total" if "total" in indicator.breakdowns else indicator.breakdowns[0]
    return IndicatorPage(
        indicator=indicator,
        org_unit=org_unit,
        period=period,
        kind=kind,
        kinds=[k for k in PeriodKind if k in latest],
        periods=sorted(series, reverse=True),
        ancestors=ancestors_of(org_unit),
        breakdowns=[b for b in indicator.breakdowns if b in present],
        history=history,
        current=next((row for row in history if row.period == period), None),
        comparison_parent=parent,
        comparison_breakdown=breakdown,
        comparison=_comparison(indicator, units, period, breakdown, org_unit),
        latest_by_kind=latest,
        sources=sources,
    )


def _history_row(period: str, values: dict[str, Measurement], a: Assessment | None) -> HistoryRow:
    thresholds = {}
    if a is not None:
        for breakdown, detail in a.details.items():
            if (detail or {}).get("threshold") is not None:
                thresholds[breakdown] = Decimal(detail["threshold"])
    return HistoryRow(
        period=period,
        values=values,
        thresholds=thresholds,
        status=a.status if a else "",
        trend=a.trend if a else "",
        assessment=a,
    )


def _comparison_units(org_unit: OrgUnit, period: str) -> tuple[OrgUnit, list[OrgUnit]]:
    """The leaf units under the org unit; for a leaf, its siblings under the parent."""
    units = list(OrgUnit.objects.filter(_valid_during(period), path__startswith=org_unit.path))
    parent = org_unit
    if len(units) == 1 and org_unit.parent_id is not None:
        parent = OrgUnit.objects.get(pk=org_unit.parent_id)
        units = list(OrgUnit.objects.filter(_valid_during(period), path__startswith=parent.path))
    parents = {u.parent_id for u in units}
    leaves = [u for u in units if u.pk not in parents and u.pk != parent.pk]
    return parent, leaves


def _comparison(
    indicator: Indicator, units: list[OrgUnit], period: str, breakdown: str, current: OrgUnit
) -> list[ComparisonRow]:
    ids = [u.pk for u in units]
    values = {
        m.org_unit_id: m
        for m in Measurement.objects.filter(
            indicator=indicator, period=period, breakdown=breakdown, org_unit__in=ids
        )
    }
    assessed = {
        a.org_unit_id: a
        for a in Assessment.objects.filter(indicator=indicator, period=period, org_unit__in=ids)
    }
    rows = []
    for unit in units:
        a = assessed.get(unit.pk)
        threshold = ((a.details.get(breakdown) or {}).get("threshold")) if a else None
        rows.append(
            ComparisonRow(
                org_unit=unit,
                measurement=values.get(unit.pk),
                status=a.status if a else "",
                threshold=Decimal(threshold) if threshold is not None else None,
                current=unit.pk == current.pk,
            )
        )
    # Highest value first; units that reported nothing go last, by name.
    rows.sort(key=lambda r: (r.value is None, -(r.value or 0), r.org_unit.name))
    return rows


# --------------------------------------------------------------------------- over time


@dataclass(frozen=True)
class PerspectiveSeries:
    perspective: Perspective
    points: list[tuple[str, StatusCounts]]  # chronological


@dataclass(frozen=True)
class FulfilmentOverTime:
    org_unit: OrgUnit
    scope: list[OrgUnit]  # whose indicators are counted: the divisions for the region
    kind: PeriodKind
    kinds: list[PeriodKind]
    periods: list[str]  # chronological
    series: list[PerspectiveSeries]


def fulfilment_over_time(org_unit: OrgUnit, kind: PeriodKind) -> FulfilmentOverTime:
    """Indicators fulfilled / partly / not fulfilled per perspective and period."""
    if org_unit.kind == OrgUnitKind.REGION:
        scope = list(OrgUnit.objects.filter(kind=OrgUnitKind.DIVISION))
    else:
        scope = [org_unit]
    perspectives = list(Perspective.objects.all())
    found: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    kinds: set[PeriodKind] = set()
    for period, perspective_id, status, n in (
        Assessment.objects.filter(org_unit__in=[u.pk for u in scope])
        .annotate(
            shown=effective_status(),
            perspective_id=F("indicator__success_factor__strategic_goal__perspective_id"),
        )
        .values_list("period", "perspective_id", "shown")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        period_kind = Period.parse(period).kind
        kinds.add(period_kind)
        if period_kind is kind:
            found[(perspective_id, period)][status] = n
    periods = sorted({period for _, period in found})
    return FulfilmentOverTime(
        org_unit=org_unit,
        scope=scope,
        kind=kind,
        kinds=[k for k in PeriodKind if k in kinds],
        periods=periods,
        series=[
            PerspectiveSeries(p, [(q, StatusCounts.of(found.get((p.pk, q), {}))) for q in periods])
            for p in perspectives
        ],
    )
