"""Goal fulfilment per org unit and perspective, and the board's landing page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q

from dashboard.selectors.states import state_counts
from divisions.models import OrgUnit, OrgUnitKind, RoleAssignment
from domain.periods import Period
from domain.rules import ReportStatus, Status, rollup
from indicators.models import Assessment
from scorecard.models import Perspective, PerspectiveAssessment

# Every state a report line can show (domain.rules.ReportStatus), in the legend's order.
COUNTED_STATUSES = tuple(state.value for state in ReportStatus)
# When no indicator of a perspective is judged, the state that says most about why.
_UNJUDGED_ORDER = (
    ReportStatus.NO_DATA,
    ReportStatus.NO_REFERENCE,
    ReportStatus.NOT_DUE,
    ReportStatus.NOT_ASSESSED,
)


@dataclass(frozen=True)
class StatusCounts:
    """How many indicators are in each state: every indicator on the scorecard is counted
    once, so the counts add up to the rows of the report (dashboard.selectors.states)."""

    fulfilled: int = 0
    partly: int = 0
    not_fulfilled: int = 0
    no_data: int = 0
    no_reference: int = 0
    not_due: int = 0
    not_assessed: int = 0

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> StatusCounts:
        return cls(**{s: counts.get(s, 0) for s in COUNTED_STATUSES})

    def __add__(self, other: StatusCounts) -> StatusCounts:
        return StatusCounts(**{s: getattr(self, s) + getattr(other, s) for s in COUNTED_STATUSES})

    @property
    def assessed(self) -> int:
        return self.fulfilled + self.partly + self.not_fulfilled

    @property
    def total(self) -> int:
        return sum(getattr(self, s) for s in COUNTED_STATUSES)

    def items(self) -> list[tuple[str, int]]:
        return [(s, getattr(self, s)) for s in COUNTED_STATUSES]

    def rollup(self) -> str:
        """The perspective's status from its indicators' ("" without any: nothing to say)."""
        if not self.total:
            return ""
        if not self.assessed:
            return next(
                (s.value for s in _UNJUDGED_ORDER if getattr(self, s.value)), Status.NO_DATA.value
            )
        statuses = [Status(s) for s, n in self.items()[:3] for _ in range(n)]
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

    @property
    def computed(self) -> str:
        """The roll-up of the perspective's indicators, whatever the manager judged."""
        return self.counts.rollup()

    @property
    def judged(self) -> str:
        """The manager's status ("" without an assessment)."""
        return self.assessment.status if self.assessment is not None else ""

    @property
    def differs(self) -> bool:
        """The manager judged otherwise than the roll-up: the justification says why."""
        return self.assessment is not None and self.judged != self.computed

    @property
    def justification(self) -> str:
        return getattr(self.assessment, "justification", "") if self.assessment else ""


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
    """Org units x the five perspectives for one period (a fixed number of queries)."""
    if perspectives is None:
        perspectives = list(Perspective.objects.all())
    counts = state_counts(org_units, [period])
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
                    StatusCounts.of(counts.get((unit.pk, period), {}).get(p.pk, {})),
                    assessments.get((unit.pk, p.pk)),
                )
                for p in perspectives
            ],
        )
        for unit in org_units
    ]
    return PerspectiveGrid(period, perspectives, rows)


def valid_during(period: str) -> Q:
    """Org units that existed at some point of the period (reorganisations keep history)."""
    first, last = Period.parse(period).dates()
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=last)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=first)
    )


def divisions_during(period: str) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(valid_during(period), kind=OrgUnitKind.DIVISION))


def overview_periods() -> list[str]:
    """Periods with an assessment at any division, newest first (as periods_with_data)."""
    periods = (
        Assessment.objects.filter(org_unit__kind=OrgUnitKind.DIVISION)
        .values_list("period", flat=True)
        .distinct()
        .order_by()
    )
    return sorted(periods, key=Period.sort_key, reverse=True)


@dataclass(frozen=True)
class RegionOverview:
    region: OrgUnit | None
    period: str
    periods: list[str]
    grid: PerspectiveGrid
    # The region's own scorecard (its key figures), when it has one: the same row as the
    # region's page shows, from the same function.
    region_grid: PerspectiveGrid | None = None


def region_overview(period: str) -> RegionOverview:
    """The board's landing page: every division x the five perspectives, and the region's
    own key figures beside them."""
    region = OrgUnit.objects.filter(kind=OrgUnitKind.REGION).order_by("path").first()
    own = region is not None and region.scorecards.exists()
    units = [region] if own else []
    grid = perspective_grid([*units, *divisions_during(period)], period)
    region_grid = None
    if own:
        region_grid = PerspectiveGrid(period, grid.perspectives, grid.rows[:1])
        grid = PerspectiveGrid(period, grid.perspectives, grid.rows[1:])
    return RegionOverview(
        region=region,
        period=period,
        periods=overview_periods(),
        grid=grid,
        region_grid=region_grid,
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
