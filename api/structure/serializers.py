from rest_framework import serializers

from api.organisation.serializers import CodeField
from divisions.models import OrgUnit
from scorecard.models import (
    Action,
    ActionStatus,
    Perspective,
    PerspectiveAssessment,
    StatusChoices,
    StrategicGoal,
    SuccessFactor,
)

KEY_HELP = "Set when created; a change (PATCH) is ignored."


class PerspectiveSerializer(serializers.ModelSerializer):
    class Meta:
        model = Perspective
        fields = ["code", "name", "description", "order"]


class StrategicGoalSerializer(serializers.ModelSerializer):
    perspective = CodeField(read_only=True)

    class Meta:
        model = StrategicGoal
        fields = ["code", "perspective", "name", "order"]


class SuccessFactorSerializer(serializers.ModelSerializer):
    strategic_goal = CodeField(read_only=True)
    perspective = serializers.CharField(source="strategic_goal.perspective.code", read_only=True)

    class Meta:
        model = SuccessFactor
        fields = ["code", "strategic_goal", "perspective", "name", "order"]


class KeyFieldsOnCreateMixin:
    """The fields that identify a row are written once: on update they are read-only."""

    key_fields: tuple[str, ...] = ()

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            for name in self.key_fields:
                fields[name].read_only = True
        return fields


class PerspectiveAssessmentSerializer(KeyFieldsOnCreateMixin, serializers.ModelSerializer):
    key_fields = ("org_unit", "perspective", "period")
    org_unit = CodeField(queryset=OrgUnit.objects.all(), help_text=KEY_HELP)
    perspective = CodeField(queryset=Perspective.objects.all(), help_text=KEY_HELP)
    period = serializers.CharField(max_length=7, help_text="2022, 2022-T2 or 2022-08. " + KEY_HELP)
    status = serializers.ChoiceField(choices=StatusChoices.choices)
    text = serializers.CharField(allow_blank=True, required=False, default="")
    updated_by = CodeField("username", read_only=True, allow_null=True)

    class Meta:
        model = PerspectiveAssessment
        fields = [
            "id",
            "org_unit",
            "perspective",
            "period",
            "status",
            "text",
            "updated_by",
            "updated_at",
        ]
        validators = []  # (org_unit, perspective, period) is an upsert key, not a conflict


class ActionSerializer(serializers.ModelSerializer):
    org_unit = CodeField(queryset=OrgUnit.objects.all())
    perspective = CodeField(queryset=Perspective.objects.all())
    success_factor = CodeField(
        queryset=SuccessFactor.objects.select_related("strategic_goal"),
        allow_null=True,
        required=False,
    )
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False, default="")

    class Meta:
        model = Action
        fields = [
            "id",
            "org_unit",
            "perspective",
            "success_factor",
            "number",
            "goal",
            "description",
            "status",
            "comment",
            "owner",
            "due_date",
            "updated_at",
        ]
