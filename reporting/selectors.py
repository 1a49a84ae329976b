"""Reads for the report workflow pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from divisions.models import OrgUnit
from domain.periods import Period
from indicators.models import Assessment, Indicator, Measurement, Placement
from indicators.scorecards import placement_for
from scorecard.models import Action, Perspective, PerspectiveAssessment


def indicator_on_scorecard(org_unit: OrgUnit, period: str, code: str) -> Placement:
    """The indicator as the scorecard the unit follows in the period places it, else 404."""
    placement = placement_for(org_unit, Period.parse(period).year, code)
    if placement is None:
        raise Http404("no such indicator on this scorecard")
    return placement


def existing_assessment(indicator: Indicator, org_unit: OrgUnit, period: str) -> Assessment:
    """The stored assessment, else 404: there is none to annotate before a value came in."""
    assessment = Assessment.objects.filter(
        indicator=indicator, org_unit=org_unit, period=period
    ).first()
    if assessment is None:
        raise Http404("no assessment yet: enter a value first")
    return assessment


@dataclass(frozen=True)
class IndicatorState:
    indicator: Indicator
    measurements: dict[str, Measurement]  # breakdown -> measurement
    assessment: Assessment | None


def indicator_state(indicator: Indicator, org_unit: OrgUnit, period: str) -> IndicatorState:
    measurements = {
        m.breakdown: m
        for m in Measurement.objects.filter(
            indicator=indicator, org_unit=org_unit, period=period
        ).select_related("source_import", "entered_by")
    }
    assessment = Assessment.objects.filter(
        indicator=indicator, org_unit=org_unit, period=period
    ).first()
    return IndicatorState(indicator, measurements, assessment)


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
    for action in Action.objects.filter(org_unit=org_unit).select_related("success_factor"):
        actions.setdefault(action.perspective_id, []).append(action)
    return [
        PerspectiveRow(p, assessments.get(p.pk), actions.get(p.pk, []))
        for p in Perspective.objects.order_by("order")
    ]
