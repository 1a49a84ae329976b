from collections import defaultdict

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.organisation.serializers import CodeField
from api.values.serializers import TargetSerializer
from indicators.models import Placement, Target
from scorecard.models import Scorecard


class ScorecardSerializer(serializers.ModelSerializer):
    org_unit = CodeField(read_only=True)
    valid_to = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The last year it holds: the year before its org unit's next scorecard "
        "starts; null while it is the latest.",
    )
    placement_count = serializers.IntegerField(
        read_only=True, help_text="How many indicators it places."
    )

    class Meta:
        model = Scorecard
        fields = [
            "id",
            "org_unit",
            "year",
            "valid_to",
            "name",
            "source",
            "loaded_at",
            "placement_count",
        ]


def placement_key(placement: Placement) -> tuple[int, int, int]:
    """Which targets are a placement's: its indicator's, for its scorecard's unit and year."""
    return placement.indicator_id, placement.scorecard.org_unit_id, placement.scorecard.year


def targets_of(placements: list[Placement]) -> dict[tuple[int, int, int], list[Target]]:
    """The targets of each placement, by placement_key, in one query."""
    keys = {placement_key(p) for p in placements}
    found: dict[tuple[int, int, int], list[Target]] = defaultdict(list)
    if not keys:
        return found
    targets = (
        Target.objects.filter(
            indicator_id__in={k[0] for k in keys},
            org_unit_id__in={k[1] for k in keys},
            year__in={k[2] for k in keys},
        )
        .select_related("org_unit")
        .order_by("breakdown", "pk")
    )
    for target in targets:
        key = (target.indicator_id, target.org_unit_id, target.year)
        if key in keys:
            found[key].append(target)
    return found


class PlacementListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        placements = list(data.all() if hasattr(data, "all") else data)
        self.child.context["targets"] = targets_of(placements)
        return super().to_representation(placements)


class PlacementSerializer(serializers.ModelSerializer):
    scorecard = serializers.IntegerField(source="scorecard_id", read_only=True)
    org_unit = serializers.CharField(source="scorecard.org_unit.code", read_only=True)
    year = serializers.IntegerField(source="scorecard.year", read_only=True)
    indicator = serializers.CharField(source="indicator.code", read_only=True)
    unit = serializers.CharField(source="indicator.unit", read_only=True)
    direction = serializers.CharField(source="indicator.direction", read_only=True)
    success_factor = serializers.CharField(source="success_factor.code", read_only=True)
    success_factor_name = serializers.CharField(source="success_factor.name", read_only=True)
    strategic_goal = serializers.CharField(
        source="success_factor.strategic_goal.code", read_only=True
    )
    perspective = serializers.CharField(
        source="success_factor.strategic_goal.perspective.code", read_only=True
    )
    breakdowns = serializers.ListField(child=serializers.CharField(), read_only=True)
    follow_up = serializers.ListField(child=serializers.CharField(), read_only=True)
    targets = serializers.SerializerMethodField(
        help_text="The indicator's targets for this scorecard's org unit and year, per breakdown "
        "(empty = total and the gender split)."
    )

    class Meta:
        model = Placement
        list_serializer_class = PlacementListSerializer
        fields = [
            "id",
            "scorecard",
            "org_unit",
            "year",
            "indicator",
            "name",
            "unit",
            "direction",
            "success_factor",
            "success_factor_name",
            "strategic_goal",
            "perspective",
            "breakdowns",
            "follow_up",
            "baseline_text",
            "order",
            "targets",
        ]

    @extend_schema_field(TargetSerializer(many=True))
    def get_targets(self, placement: Placement) -> list[dict]:
        known = self.context.get("targets")
        if known is None:  # one placement: its own query
            known = targets_of([placement])
        return TargetSerializer(known.get(placement_key(placement), []), many=True).data
