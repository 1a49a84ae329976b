"""The division report as the region's reports show it: one line per indicator and breakdown."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from benchmarks.selectors import national_values
from divisions.models import OrgUnit
from domain.periods import Period
from domain.rules import TargetKind, has_deciding_value, report_status, report_trend
from indicators.models import Aggregate, Assessment, Measurement, Placement, Target
from indicators.scorecards import placements_for
from indicators.selectors import (
    aggregates_at,
    assessments_at,
    measurements_at,
    published_comments_at,
)


@dataclass(frozen=True)
class ReportLine:
    perspective: str
    strategic_goal: str
    success_factor: str
    indicator: Placement  # reads like the indicator: code, name, unit, breakdowns, follow-up
    breakdown: str
    target: str
    value: Decimal | None
    status: str
    trend: str
    measurement: Measurement | None
    assessment: Assessment | None
    first_of_indicator: bool
    # What the unit's children add up to, with its coverage; the value shown when the unit
    # has none of its own.
    aggregate: Aggregate | None = None
    # The indicator's state as a whole (domain.rules.report_status), the same on each of its
    # lines: what the counts per perspective count.
    indicator_state: str = ""
    # The country's latest annual value of the same figure in Kolada (the line's gender),
    # for comparison only; None where the indicator has no Kolada KPI or Kolada no value.
    national_value: Decimal | None = None
    national_year: int | None = None
    # The cell's published comment (indicators.CellComment), its author as the report names
    # them, and its footnote number on the page (1, 2, ... in report order; 0 without one).
    note: str = ""
    note_by: str = ""
    note_number: int = 0

    @property
    def aggregated(self) -> bool:
        """The value shown is the children's sum, not one reported for this unit."""
        return self.measurement is None and self.aggregate is not None


def division_report(org_unit: OrgUnit, period: str) -> list[ReportLine]:
    """One line per placed indicator and breakdown, in the order of the scorecard the unit
    follows that year (a fixed number of queries).

    Each line shows its breakdown's state (domain.rules.report_status: the stored status,
    or why there is none) and trend; a manual override of the indicator replaces the status
    on every line that has one. An indicator whose lines show no state of their own (no
    assessment, or none per breakdown) shows its state on its first line.
    """
    values = measurements_at(org_unit, period)
    sums = aggregates_at(org_unit, period)
    assessments = assessments_at(org_unit, period)
    comments = published_comments_at(org_unit, period)
    when = Period.parse(period)
    lines: list[ReportLine] = []
    placements = list(placements_for(org_unit, when.year))
    national = national_values([p.indicator for p in placements])
    notes = 0
    for placement in placements:
        factor = placement.success_factor
        assessment = assessments.get(placement.indicator_id)
        targets = _nearest_first(placement.indicator.targets.all())
        due = when.is_due(placement.follow_up)
        shown = {
            breakdown: values.get(placement.indicator_id, {}).get(breakdown)
            or sums.get(placement.indicator_id, {}).get(breakdown)
            for breakdown in placement.breakdowns
        }
        state = report_status(
            assessment.status if assessment else None,
            has_value=has_deciding_value(placement.breakdowns, [b for b, v in shown.items() if v]),
            due=due,
            assessable=any(t.kind != TargetKind.NONE for t in targets),
        ).value
        own: list[tuple[str, str]] = []
        for breakdown in placement.breakdowns:
            detail = (assessment.details.get(breakdown) if assessment else None) or {}
            stored = assessment.breakdown_status(breakdown) if assessment else ""
            has_value = shown[breakdown] is not None
            status = (
                report_status(stored, has_value=has_value, due=due, assessable=True).value
                if stored
                else ""
            )
            own.append((status, report_trend(detail.get("trend"), has_value=has_value)))
        if not any(status for status, _trend in own):
            own[0] = (state, own[0][1])
        for index, breakdown in enumerate(placement.breakdowns):
            measurement = values.get(placement.indicator_id, {}).get(breakdown)
            aggregate = sums.get(placement.indicator_id, {}).get(breakdown)
            detail = (assessment.details.get(breakdown) if assessment else None) or {}
            target = (
                detail.get("target_value")
                or detail.get("target")
                or (targets[0].text if targets and index == 0 else "")
            )
            status, trend = own[index]
            country = national.get(placement.indicator_id, {}).get(breakdown)
            comment = comments.get((placement.indicator_id, breakdown))
            notes += comment is not None
            lines.append(
                ReportLine(
                    perspective=factor.strategic_goal.perspective.name,
                    strategic_goal=factor.strategic_goal.name,
                    success_factor=factor.name,
                    indicator=placement,
                    breakdown=breakdown,
                    target=target or "",
                    value=shown[breakdown].value if shown[breakdown] else None,
                    status=status,
                    trend=trend,
                    measurement=measurement,
                    assessment=assessment,
                    first_of_indicator=index == 0,
                    aggregate=aggregate,
                    indicator_state=state,
                    national_value=country.value if country else None,
                    national_year=country.year if country else None,
                    note=comment.text if comment else "",
                    note_by=author_name(comment.author) if comment else "",
                    note_number=notes if comment else 0,
                )
            )
    return lines


def author_name(user) -> str:
    """A comment's author as the report names them: full name, else user name."""
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _nearest_first(targets) -> list[Target]:
    """Targets of the unit's lineage (placements_for's prefetch): the nearest unit's first."""
    return sorted(targets, key=lambda t: (-len(t.org_unit.path) if t.org_unit else 0, t.pk))


@dataclass
class IndicatorGroup:
    indicator: Placement
    lines: list[ReportLine]

    @property
    def state(self) -> str:
        """The indicator's state, counted once per perspective (a frozen report from before
        the states were stored: its first line's status)."""
        first = self.lines[0]
        return getattr(first, "indicator_state", "") or first.status


@dataclass
class FactorGroup:
    name: str
    indicators: list[IndicatorGroup]

    @property
    def notes(self) -> list:
        """The lines of this table with a comment, for the numbered notes below it (a line
        frozen before comments existed has none)."""
        return [line for group in self.indicators for line in group.lines if _note(line)]


@dataclass
class GoalGroup:
    name: str
    factors: list[FactorGroup]


@dataclass
class PerspectiveGroup:
    name: str
    goals: list[GoalGroup]

    @property
    def notes(self) -> list:
        return [line for goal in self.goals for factor in goal.factors for line in factor.notes]


def _note(line) -> str:
    return getattr(line, "note", "")


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
        if not indicators or indicators[-1].indicator.pk != line.indicator.pk:  # placements
            indicators.append(IndicatorGroup(line.indicator, []))
        indicators[-1].lines.append(line)
    return groups
