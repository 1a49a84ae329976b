from django.db.models import Count, OuterRef, Subquery

from api.base import ReadOnlyViewSet
from api.scorecards.filters import PlacementFilterSet, ScorecardFilterSet
from api.scorecards.serializers import PlacementSerializer, ScorecardSerializer
from indicators.models import Placement
from scorecard.models import Scorecard


class ScorecardViewSet(ReadOnlyViewSet):
    """Each org unit's scorecards (styrkort): one holds from its year until the unit's next.

    Units without a scorecard of their own follow the nearest one above them.
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
    """The indicators on each scorecard: where they sit, how that report names them, their
    breakdowns, follow-up and targets. The same indicator may sit on many scorecards."""

    queryset = Placement.objects.select_related(
        "scorecard__org_unit", "indicator", "success_factor__strategic_goal__perspective"
    ).order_by("scorecard__org_unit__path", "scorecard__year", *Placement._meta.ordering)
    serializer_class = PlacementSerializer
    filterset_class = PlacementFilterSet
    export_name = "placements"
