from api.base import DeletableViewSet, ReadOnlyViewSet, WritableViewSet
from api.structure.filters import (
    ActionFilterSet,
    PerspectiveAssessmentFilterSet,
    StrategicGoalFilterSet,
    SuccessFactorFilterSet,
)
from api.structure.serializers import (
    ActionSerializer,
    PerspectiveAssessmentSerializer,
    PerspectiveSerializer,
    StrategicGoalSerializer,
    SuccessFactorSerializer,
)
from scorecard import editing
from scorecard.models import (
    Action,
    Perspective,
    PerspectiveAssessment,
    StrategicGoal,
    SuccessFactor,
)


class PerspectiveViewSet(ReadOnlyViewSet):
    queryset = Perspective.objects.order_by("order", "pk")
    serializer_class = PerspectiveSerializer
    lookup_field = "code"
    export_name = "perspectives"


class StrategicGoalViewSet(ReadOnlyViewSet):
    queryset = StrategicGoal.objects.select_related("perspective").order_by(
        "perspective__order", "order", "pk"
    )
    serializer_class = StrategicGoalSerializer
    filterset_class = StrategicGoalFilterSet
    lookup_field = "code"
    export_name = "strategic_goals"


class SuccessFactorViewSet(ReadOnlyViewSet):
    """Each scorecard's success factors (framgångsfaktorer), under the region's strategic goals.

    A code is unique on one scorecard only, so a success factor is fetched by its id, and
    `code=x` lists every scorecard's factor with that code. Filters: `code`, `perspective`,
    `strategic_goal`, and `scorecard`, `org_unit` (+ `subtree`), `year`, `scorecard_of` as
    on /scorecards/.
    """

    queryset = SuccessFactor.objects.select_related(
        "strategic_goal__perspective", "scorecard__org_unit"
    ).order_by(
        "scorecard__org_unit__path",
        "scorecard__year",
        "strategic_goal__perspective__order",
        "strategic_goal__order",
        "order",
        "pk",
    )
    serializer_class = SuccessFactorSerializer
    filterset_class = SuccessFactorFilterSet
    export_name = "success_factors"


class PerspectiveAssessmentViewSet(WritableViewSet):
    """The overall assessment (samlad bedömning) per org unit, perspective and period.

    POST sets it for its (org_unit, perspective, period): 201 when new, 200 when replaced.
    """

    queryset = PerspectiveAssessment.objects.select_related(
        "org_unit", "perspective", "updated_by"
    ).order_by("period", "org_unit__path", "perspective__order", "pk")
    serializer_class = PerspectiveAssessmentSerializer
    filterset_class = PerspectiveAssessmentFilterSet
    export_name = "perspective_assessments"
    upsert = True

    def create_object(self, data):
        return editing.set_perspective_assessment(user=self.request.user, **data)

    def update_object(self, instance, data):
        return editing.update_perspective_assessment(
            user=self.request.user, assessment=instance, **data
        )


class ActionViewSet(DeletableViewSet):
    """The action plan (strategiska åtgärder) of each org unit.

    `success_factor` is written as the success factor's id, or as its code where only one
    scorecard has that code (a code several scorecards share is a 400 naming their ids).
    """

    queryset = (
        Action.objects.select_related("org_unit", "perspective", "success_factor__strategic_goal")
        .prefetch_related("indicators")
        .order_by("org_unit__path", "perspective__order", "pk")
    )
    serializer_class = ActionSerializer
    filterset_class = ActionFilterSet
    export_name = "actions"

    def create_object(self, data):
        return editing.create_action(user=self.request.user, **data), True

    def update_object(self, instance, data):
        return editing.update_action(user=self.request.user, action=instance, **data)

    def delete_object(self, instance):
        editing.delete_action(user=self.request.user, action=instance)
