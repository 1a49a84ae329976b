"""Reads for the report workflow pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.http import Http404

from dashboard.selectors.division import plan_of
from dashboard.selectors.indicator import target_of
from divisions.models import OrgUnit
from domain.periods import PERIOD_KIND_REGEX, Period
from domain.rules import has_deciding_value, report_status
from indicators.models import Assessment, Indicator, Measurement, Placement
from indicators.scorecards import placement_for
from scorecard.models import Action, Perspective, PerspectiveAssessment


def indicator_on_scorecard(org_unit: OrgUnit, period: str, code: str) -> Placement:
    """The indicator as the scorecard the unit follows in the period places it, else 404."""
    placement = placement_for(org_unit, Period.parse(period).year, code)
    if placement is None:
        raise Http404("no such indicator on this scorecard")
    return placement


@dataclass(frozen=True)
class EarlierValues:
    period: str
    values: dict[str, Measurement]  # breakdown -> measurement


@dataclass(frozen=True)
class IndicatorState:
    """What the manager's form of one indicator shows beside its fields."""

    indicator: Indicator
    measurements: dict[str, Measurement]  # breakdown -> measurement
    assessment: Assessment | None
    target_text: str = ""  # the target the unit is judged against, as written
    due: bool = True  # followed up in this period (Period.is_due)
    state: str = ""  # the state the report shows now (domain.rules.report_status)
    previous: EarlierValues | None = None  # the latest earlier period of the kind with values
    year_before: EarlierValues | None = None  # the same period a year earlier (the trend's)
    previous_analysis: tuple[str, str] | None = None  # (period, text): the latest before

    @property
    def draft_analysis(self) -> str:
        """The analysis the form starts from: this period's, else the latest earlier one as
        a draft to edit (it is saved only when the manager saves it)."""
        if self.assessment is not None and self.assessment.analysis:
            return self.assessment.analysis
        return self.previous_analysis[1] if self.previous_analysis else ""


def indicator_state(placement: Placement, org_unit: OrgUnit, period: str) -> IndicatorState:
    """The indicator's values, assessment and context at a unit and period (a fixed number
    of queries): its target, whether it is due, the earlier values and the latest analysis."""
    indicator = placement.indicator
    when = Period.parse(period)
    earlier: dict[str, dict[str, Measurement]] = defaultdict(dict)
    for m in Measurement.objects.filter(
        indicator=indicator, org_unit=org_unit, period__regex=PERIOD_KIND_REGEX[when.kind]
    ).select_related("source_import", "entered_by"):
        earlier[m.period][m.breakdown] = m
    order = {b: i for i, b in enumerate(placement.breakdowns)}
    for code, found in earlier.items():  # in the placement's order of breakdowns
        earlier[code] = dict(sorted(found.items(), key=lambda item: order.get(item[0], 99)))
    measurements = earlier.pop(period, {})
    before = [p for p in earlier if Period.sort_key(p) < Period.sort_key(period)]
    latest = max(before, key=Period.sort_key) if before else None
    year_before = when.year_before().code
    assessment = Assessment.objects.filter(
        indicator=indicator, org_unit=org_unit, period=period
    ).first()
    analyses = [
        (code, text)
        for code, text in Assessment.objects.filter(indicator=indicator, org_unit=org_unit)
        .exclude(analysis="")
        .values_list("period", "analysis")
        if Period.sort_key(code) < Period.sort_key(period)
    ]
    target_text, assessable = target_of(placement, org_unit, period)
    has_value = has_deciding_value(placement.breakdowns, measurements)
    due = when.is_due(placement.follow_up)
    return IndicatorState(
        indicator=indicator,
        measurements=measurements,
        assessment=assessment,
        target_text=target_text,
        due=due,
        state=report_status(
            assessment.status if assessment else None,
            has_value=has_value,
            due=due,
            assessable=assessable,
        ).value,
        previous=EarlierValues(latest, earlier[latest]) if latest else None,
        year_before=EarlierValues(year_before, earlier[year_before])
        if year_before in earlier
        else None,
        previous_analysis=max(analyses, key=lambda a: Period.sort_key(a[0])) if analyses else None,
    )


@dataclass(frozen=True)
class PerspectiveRow:
    perspective: Perspective
    assessment: PerspectiveAssessment | None
    actions: list[Action]


def perspective_rows(org_unit: OrgUnit, period: str) -> list[PerspectiveRow]:
    """Each perspective with the unit's assessment for the period and its action plan."""
    assessments = {
        a.perspective_id: a
        for a in PerspectiveAssessment.objects.filter(
            org_unit=org_unit, period=period
        ).select_related("updated_by")
    }
    actions: dict[int, list[Action]] = {}
    for action in plan_of(org_unit, period):
        actions.setdefault(action.perspective_id, []).append(action)
    return [
        PerspectiveRow(p, assessments.get(p.pk), actions.get(p.pk, []))
        for p in Perspective.objects.order_by("order")
    ]
