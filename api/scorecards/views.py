from django.db.models import Count, OuterRef, Subquery

from api.base import ReadOnlyViewSet
from api.scorecards.filters import PlacementFilterSet, ScorecardFilterSet
from api.scorecards.serializers import PlacementSerializer, ScorecardSerializer
from indicators.models import Placement
from scorecard.models import Scorecard


class ScorecardViewSet(ReadOnlyViewSet):
    """Each org unit's scorecards (styrkort).

    A scorecard holds from its `year` until its org unit's next one starts (`valid_to`, null
    while it is the latest); a unit's first scorecard also judges the years before it. Units
    without a scorecard of their own follow the nearest one above them.

    Filters: `org_unit` (whose; with `subtree=true` also the units under it), `year` (the
    scorecards in force that year), `scorecard_of` (the scorecard each named unit follows:
    its own, else the nearest above it; with `year`, the one of that year).
    """

    queryset = (
        Scorecard.objects.select_related("org_unit")
        .annotate(
            valid_to=Subquery(
                Scorecard.objects.filter(org_unit=OuterRef("org_unit"), year__gt=OuterRef("year"))
                .order_by("year")
                .values("year")[:1]
            )
            - 1,
            placement_count=Count("placements"),
        )
        .order_by("org_unit__path", "year", "pk")
    )
    serializer_class = ScorecardSerializer
    filterset_class = ScorecardFilterSet
    export_name = "scorecards"


class PlacementViewSet(ReadOnlyViewSet):
    """The indicators on each scorecard (placements).

    A placement is where one scorecard puts a catalogue indicator: under which success
    factor (and so strategic goal and perspective), the name that report gives it, the
    breakdowns it follows, its follow-up periods and order, and its targets (the
    indicator's targets for the scorecard's org unit and year). The same indicator may sit
    on many scorecards, in different places.

    Filters: `scorecard` (ids), `org_unit` (+ `subtree`), `year`, `scorecard_of` as on
    /scorecards/; `indicator`, `perspective`, `strategic_goal`, `success_factor` (codes; a
    success factor code names that factor on every scorecard that has it).
    """

    queryset = Placement.objects.select_related(
        "scorecard__org_unit", "indicator", "success_factor__strategic_goal__perspective"
    ).order_by("scorecard__org_unit__path", "scorecard__year", *Placement._meta.ordering)
    serializer_class = PlacementSerializer
    filterset_class = PlacementFilterSet
    export_name = "placements"
