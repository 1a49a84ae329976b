"""The completeness board: what a unit's report of a period still lacks, with who fills it.

The rule is domain.completeness; this reads its inputs in a fixed number of queries per unit:
the report's lines (the states the report shows), the perspective assessments, and the open
actions of the period's plan with the indicators they address.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from dashboard.selectors.division import plan_of
from dashboard.selectors.overview import divisions_during
from dashboard.selectors.report import ReportLine, division_report
from divisions.models import OrgUnit
from domain.completeness import Gap, GapKind, IndicatorFacts, gap_counts, report_gaps
from domain.periods import Period
from domain.rules import has_deciding_value
from indicators.models import Placement
from scorecard.closing import closure_for
from scorecard.models import Perspective, PerspectiveAssessment, ReportingDeadline


@dataclass(frozen=True)
class GapRow:
    """One gap, with what the page needs to name it and link to its form."""

    kind: GapKind
    org_unit: OrgUnit  # the unit whose form fills it (a unit below for its missing value)
    indicator: Placement | None = None
    perspective: Perspective | None = None
    state: str = ""  # the indicator's state in the report


@dataclass(frozen=True)
class Completeness:
    org_unit: OrgUnit
    period: str
    gaps: list[GapRow]
    indicators: int  # how many indicators the report has
    closed: bool = False  # the period is closed: nothing can be filled in any more
    deadline: ReportingDeadline | None = None
    counts: dict[GapKind, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.gaps

    @property
    def missing(self) -> int:
        return len(self.gaps)

    def of_kind(self, kind: str) -> list[GapRow]:
        return [gap for gap in self.gaps if gap.kind == kind]

    @property
    def groups(self) -> list[tuple[GapKind, int, list[GapRow]]]:
        """(kind, count, gaps) for every kind, in the board's order."""
        return [(kind, count, self.of_kind(kind)) for kind, count in self.counts.items()]


def _deciding_lines(lines: list[ReportLine]) -> list[ReportLine]:
    """The lines whose values decide the indicator: the total where it has one."""
    total = [line for line in lines if line.breakdown == "total"]
    return total or lines


def completeness(
    org_unit: OrgUnit, period: str, *, deadline: ReportingDeadline | None = None
) -> Completeness:
    """What the unit's report of `period` lacks (domain.completeness.report_gaps)."""
    when = Period.parse(period)
    lines = division_report(org_unit, period)
    by_indicator: dict[int, list[ReportLine]] = defaultdict(list)
    for line in lines:
        by_indicator[line.indicator.pk].append(line)
    addressed: set[int] = set()
    for action in plan_of(org_unit, period):
        if action.is_open:
            addressed.update(indicator.pk for indicator in action.indicators.all())
    assessed = set(
        PerspectiveAssessment.objects.filter(org_unit=org_unit, period=period).values_list(
            "perspective__code", flat=True
        )
    )
    facts: list[IndicatorFacts] = []
    placements: dict[str, Placement] = {}
    perspectives: dict[str, Perspective] = {}
    for indicator_lines in by_indicator.values():
        first = indicator_lines[0]
        placement = first.indicator
        perspective = placement.success_factor.strategic_goal.perspective
        placements[placement.code] = placement
        perspectives[perspective.code] = perspective
        deciding = _deciding_lines(indicator_lines)
        missing = sorted(
            {
                code
                for line in deciding
                if line.aggregated and line.aggregate is not None
                for code in line.aggregate.missing_units
            }
        )
        assessment = first.assessment
        facts.append(
            IndicatorFacts(
                code=placement.code,
                perspective=perspective.code,
                state=first.indicator_state,
                due=when.is_due(placement.follow_up),
                has_value=has_deciding_value(
                    placement.breakdowns,
                    [line.breakdown for line in indicator_lines if line.value is not None],
                ),
                has_analysis=bool(assessment and assessment.analysis.strip()),
                has_open_action=placement.indicator_id in addressed,
                missing_units=tuple(missing),
            )
        )
    gaps = report_gaps(facts, assessed)
    below = {
        unit.code: unit
        for unit in OrgUnit.objects.filter(code__in={gap.unit for gap in gaps if gap.unit})
    }
    states = {f.code: f.state for f in facts}
    return Completeness(
        org_unit=org_unit,
        period=when.code,
        gaps=[_row(gap, org_unit, below, placements, perspectives, states) for gap in gaps],
        indicators=len(facts),
        closed=closure_for(org_unit, when.code) is not None,
        deadline=deadline,
        counts=gap_counts(gaps),
    )


def _row(
    gap: Gap,
    org_unit: OrgUnit,
    below: dict[str, OrgUnit],
    placements: dict[str, Placement],
    perspectives: dict[str, Perspective],
    states: dict[str, str],
) -> GapRow:
    if gap.kind == GapKind.PERSPECTIVE:
        return GapRow(gap.kind, org_unit, perspective=perspectives[gap.subject])
    return GapRow(
        gap.kind,
        below.get(gap.unit, org_unit),
        indicator=placements[gap.subject],
        state=states[gap.subject],
    )


def divisions_completeness(
    period: str, *, deadline: ReportingDeadline | None = None, units: Iterable[OrgUnit] = ()
) -> list[Completeness]:
    """The board of every division of the period (or of `units`), by name."""
    units = list(units) or sorted(divisions_during(period), key=lambda unit: unit.name)
    return [completeness(unit, period, deadline=deadline) for unit in units]
