"""The division page: its perspectives, indicator tables, action plan and drill-down."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from dashboard.corrections import Corrections, FinalState
from dashboard.selectors.overview import (
    PerspectiveCell,
    PerspectiveGrid,
    perspective_grid,
    valid_during,
)
from dashboard.selectors.report import PerspectiveGroup, ReportLine, division_report, group_report
from divisions.models import OrgUnit
from indicators.selectors import periods_with_data
from scorecard.models import Action, Perspective


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
    # Shown from the content frozen at the close in force (dashboard.selectors.final).
    final: FinalState | None = None
    # After a reopening: how the report differs from the version that was closed.
    corrections: Corrections | None = None

    @property
    def cells(self) -> list[PerspectiveCell]:
        return [section.cell for section in self.sections]


def division_page(org_unit: OrgUnit, period: str) -> DivisionPage:
    """The division scorecard with its summary, action plan and drill-down."""
    perspectives = list(Perspective.objects.all())
    lines = division_report(org_unit, period)
    groups = {_perspective_id(group): group for group in group_report(lines)}
    children = list(OrgUnit.objects.filter(valid_during(period), parent=org_unit).order_by("name"))
    grid = perspective_grid([org_unit, *children], period, perspectives)
    actions: dict[int, list[Action]] = defaultdict(list)
    for action in plan_of(org_unit, period):
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


def plan_of(org_unit: OrgUnit, period: str) -> QuerySet[Action]:
    """The unit's action plan of the period: the actions set or followed up in that period's
    report, and the older ones without a period (the unit's living plan)."""
    return (
        Action.objects.filter(org_unit=org_unit)
        .filter(Q(period=period) | Q(period=""))
        .select_related("success_factor")
        .prefetch_related("indicators")
    )


def _perspective_id(group: PerspectiveGroup) -> int:
    indicator = group.goals[0].factors[0].indicators[0].indicator
    return indicator.success_factor.strategic_goal.perspective_id


def ancestors_of(org_unit: OrgUnit) -> list[OrgUnit]:
    codes = org_unit.ancestor_codes
    return list(OrgUnit.objects.filter(code__in=codes).order_by("path")) if codes else []
