from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.organisation.serializers import CodeField
from divisions.models import OrgUnit
from indicators.models import Indicator
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
    """One scorecard's success factor; its code is unique on that scorecard only."""

    scorecard = serializers.IntegerField(source="scorecard_id", read_only=True)
    org_unit = serializers.CharField(source="scorecard.org_unit.code", read_only=True)
    year = serializers.IntegerField(source="scorecard.year", read_only=True)
    strategic_goal = CodeField(read_only=True)
    perspective = serializers.CharField(source="strategic_goal.perspective.code", read_only=True)

    class Meta:
        model = SuccessFactor
        fields = [
            "id",
            "code",
            "scorecard",
            "org_unit",
            "year",
            "strategic_goal",
            "perspective",
            "name",
            "order",
        ]


class SuccessFactorField(CodeField):
    """A success factor by id (a number), or by code (text) where one scorecard alone has it."""

    default_error_messages = {
        **CodeField.default_error_messages,
        "ambiguous": _(
            "Koden {value} finns på flera styrkort (id {ids}): ange framgångsfaktorns id."
        ),
    }

    def to_internal_value(self, data):
        queryset = self.get_queryset()
        if isinstance(data, int) and not isinstance(data, bool):
            found = queryset.filter(pk=data).first() if 0 < data < 2**63 else None
            if found is None:
                self.fail("does_not_exist", slug_name="id", value=data)
            return found
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        found = list(queryset.filter(code=data)[:10])
        if not found:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        if len(found) > 1:
            self.fail("ambiguous", value=data, ids=", ".join(str(f.pk) for f in found))
        return found[0]


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
    justification = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        help_text="Why the status differs from the computed roll-up of the perspective's "
        "indicators (the form requires it when they differ).",
    )
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
            "justification",
            "updated_by",
            "updated_at",
        ]
        validators = []  # (org_unit, perspective, period) is an upsert key, not a conflict


class ActionSerializer(serializers.ModelSerializer):
    org_unit = CodeField(queryset=OrgUnit.objects.all())
    perspective = CodeField(queryset=Perspective.objects.all())
    success_factor = SuccessFactorField(
        queryset=SuccessFactor.objects.select_related("strategic_goal"),
        allow_null=True,
        required=False,
        help_text="The success factor's id, or its code where only one scorecard has it.",
    )
    success_factor_id = serializers.IntegerField(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False, default="")
    period = serializers.CharField(
        max_length=7,
        allow_blank=True,
        required=False,
        default="",
        help_text="The report period whose action plan it belongs to (2022-T2); empty: the "
        "unit's living plan. A closed period's actions cannot change.",
    )
    indicators = serializers.SlugRelatedField(
        many=True,
        slug_field="code",
        queryset=Indicator.objects.all(),
        required=False,
        help_text="Codes of the indicators the action addresses.",
    )

    class Meta:
        model = Action
        fields = [
            "id",
            "org_unit",
            "perspective",
            "success_factor",
            "success_factor_id",
            "number",
            "goal",
            "description",
            "status",
            "comment",
            "owner",
            "due_date",
            "period",
            "indicators",
            "updated_at",
        ]
