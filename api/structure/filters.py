"""Filters for the scorecard structure, perspective assessments and actions."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from api.organisation.filters import (
    ChoiceListFilter,
    CodeListFilter,
    FilterSet,
    OrgUnitFilter,
    subtree_filter,
)
from api.scorecards.filters import ScorecardScope
from api.values.filters import PeriodFilterSet
from scorecard.models import (
    Action,
    ActionStatus,
    Perspective,
    PerspectiveAssessment,
    StatusChoices,
    StrategicGoal,
    SuccessFactor,
)


class StrategicGoalFilterSet(FilterSet):
    perspective = CodeListFilter(model=Perspective, field_name="perspective", label=_("Perspektiv"))

    class Meta:
        model = StrategicGoal
        fields = ["perspective"]


class SuccessFactorFilterSet(ScorecardScope):
    code = CodeListFilter(model=SuccessFactor, field_name="code", label=_("Kod"))
    perspective = CodeListFilter(
        model=Perspective, field_name="strategic_goal__perspective", label=_("Perspektiv")
    )
    strategic_goal = CodeListFilter(
        model=StrategicGoal, field_name="strategic_goal", label=_("Strategiskt mål")
    )

    class Meta:
        model = SuccessFactor
        fields = [
            "code",
            "scorecard",
            "org_unit",
            "subtree",
            "year",
            "scorecard_of",
            "perspective",
            "strategic_goal",
        ]


class PerspectiveAssessmentFilterSet(PeriodFilterSet):
    org_unit = OrgUnitFilter(field_name="org_unit", label=_("Organisationsenhet"))
    subtree = subtree_filter()
    perspective = CodeListFilter(model=Perspective, field_name="perspective", label=_("Perspektiv"))
    status = ChoiceListFilter(choices=StatusChoices.choices, label=_("Måluppfyllelse"))

    class Meta:
        model = PerspectiveAssessment
        fields = ["org_unit", "subtree", "perspective", "status"]


class ActionFilterSet(FilterSet):
    org_unit = OrgUnitFilter(field_name="org_unit", label=_("Organisationsenhet"))
    subtree = subtree_filter()
    perspective = CodeListFilter(model=Perspective, field_name="perspective", label=_("Perspektiv"))
    success_factor = CodeListFilter(
        model=SuccessFactor, field_name="success_factor", label=_("Framgångsfaktor")
    )
    status = ChoiceListFilter(
        choices=[(value or "none", label) for value, label in ActionStatus.choices],
        method="filter_status",
        label=_("Status"),
    )
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label=_("Klart senast, till och med")
    )

    class Meta:
        model = Action
        fields = [
            "org_unit",
            "subtree",
            "perspective",
            "success_factor",
            "status",
            "due_before",
            "period",
        ]

    def filter_status(self, qs, name, value):
        return qs.filter(status__in=["" if v == "none" else v for v in value])
