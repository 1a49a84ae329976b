"""Filters by scorecard: which one, whose, which year; for scorecards and what hangs on them.

A scorecard holds from its year until its org unit's next one, so `year=2023` finds the
scorecards in force in 2023, whichever year they were loaded for. The same filters serve
scorecards, placements, success factors and (through their placements) indicators.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from api.organisation.filters import (
    CodeListFilter,
    FilterSet,
    IdListFilter,
    OrgUnitFilter,
    subtree_filter,
)
from divisions.models import OrgUnit
from indicators.models import Indicator, Placement
from scorecard.models import Perspective, Scorecard, StrategicGoal, SuccessFactor

FIRST_YEAR, LAST_YEAR = 1900, 2999  # Scorecard's own check constraint


def in_force(queryset: QuerySet, year: int, path: str = "") -> QuerySet:
    """Rows whose scorecard (reached by `path`, "" for scorecards) holds in `year`.

    As indicators.scorecards.scorecard_for: a unit's scorecard holds from its year until the
    unit's next one starts, and its first one also holds for the years before it.
    """
    same_unit = {"org_unit": OuterRef(f"{path}org_unit")}
    started_since = Scorecard.objects.filter(
        **same_unit, year__gt=OuterRef(f"{path}year"), year__lte=year
    )
    earlier = Scorecard.objects.filter(**same_unit, year__lt=OuterRef(f"{path}year"))
    return queryset.exclude(Exists(started_since)).exclude(
        Q(**{f"{path}year__gt": year}) & Q(Exists(earlier))
    )


def followed_scorecards(units: list[OrgUnit], year: int | None) -> set[int]:
    """Ids of the scorecards the units follow (indicators.scorecards.scorecard_for): those of
    the nearest unit up the tree that has any, the one in force in `year`, or all of them
    when `year` is None."""
    codes = {code for unit in units for code in unit.lineage_codes}
    cards: dict[str, list[tuple[int, int]]] = {}
    for pk, code, card_year in Scorecard.objects.filter(org_unit__code__in=codes).values_list(
        "pk", "org_unit__code", "year"
    ):
        cards.setdefault(code, []).append((card_year, pk))
    found: set[int] = set()
    for unit in units:
        nearest = next((c for c in reversed(unit.lineage_codes) if c in cards), None)
        if nearest is None:
            continue
        own = sorted(cards[nearest])
        if year is None:
            found.update(pk for _, pk in own)
        else:
            found.add(max((c for c in own if c[0] <= year), default=own[0])[1])
    return found


@extend_schema_field(OpenApiTypes.INT)
class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class ScorecardScope(FilterSet):
    """`scorecard`, `org_unit` (+ `subtree`), `year` and `scorecard_of`, for any model that
    reaches its scorecard by `scorecard_path` ("" for scorecards themselves)."""

    scorecard_path = "scorecard__"

    scorecard = IdListFilter(
        model=Scorecard, method="filter_scorecard", label=_("Styrkort (id, kommaseparerade)")
    )
    org_unit = OrgUnitFilter(field_name="org_unit", label=_("Styrkortets organisationsenhet"))
    subtree = subtree_filter()
    year = YearFilter(
        method="filter_year",
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        label=_("År (styrkort som gäller det året)"),
    )
    scorecard_of = CodeListFilter(
        model=OrgUnit,
        method="filter_scorecard_of",
        label=_("Styrkortet som enheten följer (sitt eget, annars närmast ovanför)"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["org_unit"].field_name = f"{self.scorecard_path}org_unit"

    def filter_scorecard(self, qs: QuerySet, name: str, value: list[int]) -> QuerySet:
        return qs.filter(**{f"{self.scorecard_path}pk__in": value})

    def filter_year(self, qs: QuerySet, name: str, value) -> QuerySet:
        return in_force(qs, value, self.scorecard_path)

    def filter_scorecard_of(self, qs: QuerySet, name: str, value: list[OrgUnit]) -> QuerySet:
        year = self.form.cleaned_data.get("year")
        ids = followed_scorecards(value, year)
        return qs.filter(**{f"{self.scorecard_path}pk__in": ids})


class ScorecardFilterSet(ScorecardScope):
    scorecard_path = ""
    scorecard = None  # a scorecard is fetched by its id: /scorecards/<id>/

    class Meta:
        model = Scorecard
        fields = ["org_unit", "subtree", "year", "scorecard_of"]


class PlacementScope(ScorecardScope):
    """The scorecard filters, and where on the scorecard: perspective, goal, success factor."""

    perspective = CodeListFilter(
        model=Perspective,
        field_name="success_factor__strategic_goal__perspective",
        label=_("Perspektiv"),
    )
    strategic_goal = CodeListFilter(
        model=StrategicGoal, field_name="success_factor__strategic_goal", label=_("Strategiskt mål")
    )
    success_factor = CodeListFilter(
        model=SuccessFactor, field_name="success_factor", label=_("Framgångsfaktor")
    )


class PlacementFilterSet(PlacementScope):
    indicator = CodeListFilter(model=Indicator, field_name="indicator", label=_("Styrmått"))

    class Meta:
        model = Placement
        fields = [
            "scorecard",
            "org_unit",
            "subtree",
            "year",
            "scorecard_of",
            "indicator",
            "perspective",
            "strategic_goal",
            "success_factor",
        ]


class IndicatorFilterSet(PlacementScope):
    """The catalogue by code; the placement filters find the indicators placed so.

    All placement filters apply to the same placement (`perspective=x&org_unit=y`: placed
    under x on y's scorecard), so they run as one subquery over placements.
    """

    code = CodeListFilter(model=Indicator, field_name="code", label=_("Kod"))

    class Meta:
        model = Indicator
        fields = [
            "code",
            "scorecard",
            "org_unit",
            "subtree",
            "year",
            "scorecard_of",
            "perspective",
            "strategic_goal",
            "success_factor",
        ]

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        placements, placed = Placement.objects.all(), False
        for name, value in self.form.cleaned_data.items():
            if name in PlacementScope.base_filters:
                placements = self.filters[name].filter(placements, value)
                # subtree only modifies org_unit: alone it selects nothing.
                placed = placed or (name != "subtree" and value not in EMPTY_VALUES)
            else:
                queryset = self.filters[name].filter(queryset, value)
        if placed:
            queryset = queryset.filter(pk__in=placements.values("indicator_id"))
        return queryset
