from functools import cache

from django.db.models import F, OuterRef, Prefetch, Subquery
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import (
    EXPORT_CHUNK_ROWS,
    TABULAR_FORMATS,
    ReadOnlyViewSet,
    WidePivot,
    WritableViewSet,
)
from api.copy_csv import copy_csv, sheet_xml
from api.pagination import IdCursorPagination, SyncCursorPagination, sort_id
from api.renderers import Table
from api.scorecards.filters import IndicatorFilterSet
from api.values.export_columns import ASSESSMENT_COLUMNS, MEASUREMENT_COLUMNS
from api.values.filters import AggregateFilterSet, AssessmentFilterSet, MeasurementFilterSet
from api.values.serializers import (
    AggregateSerializer,
    AssessmentSerializer,
    IndicatorSerializer,
    MeasurementSerializer,
    MeasurementVersionSerializer,
    assessment_rows,
    measurement_rows,
    with_codes,
)
from domain.exchange.format import HEADER
from domain.exchange.writing import measurements_csv_chunks
from indicators import editing
from indicators.models import Aggregate, Assessment, Indicator, Measurement, Target
from indicators.selectors import measurement_history, sync_watermark


class IndicatorViewSet(ReadOnlyViewSet):
    """The regional indicator catalogue (styrmått): what every scorecard shares.

    Code, name, unit, direction, how values add up the organisation (`aggregation`), the
    breakdowns any scorecard follows, and every target per year, org unit and breakdown.
    Where each scorecard places an indicator, and under which name: /placements/.

    Filters: `code`; and, through the placements, `scorecard`, `org_unit` (+ `subtree`),
    `year`, `scorecard_of`, `perspective`, `strategic_goal`, `success_factor`: the
    indicators placed so, all conditions on the same placement (`perspective=ekonomi&
    org_unit=x`: under Ekonomi on x's scorecard), each indicator once.
    """

    queryset = Indicator.objects.prefetch_related(
        Prefetch(
            "targets",
            queryset=Target.objects.select_related("org_unit").order_by(
                "year", "org_unit_id", "breakdown", "pk"
            ),
        )
    ).order_by(*Indicator._meta.ordering)
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    lookup_field = "code"
    export_name = "indicators"


@cache
def _measurement_list_rows():
    # Built once and cloned per request (as DRF clones a view's `queryset`): building the
    # joins and columns again was 340 µs of a 6 ms page; a clone is 4 µs. In id order, as
    # the view's `queryset`: pages order themselves, an export keeps it (sorted_by_filters).
    return measurement_rows(Measurement.objects.order_by("id"))


class MeasurementViewSet(WritableViewSet):
    """Measurements (utfall): one value per indicator, org unit, period and breakdown.

    POST sets the value of its key (201 when new, 200 when replaced; the replaced value is kept
    in the history). CSV is the exchange format of the import, so an export imports back.
    """

    queryset = (
        Measurement.objects.select_related("indicator", "org_unit", "entered_by")
        .only(
            *(
                name
                for name in (
                    "id",
                    "period",
                    "breakdown",
                    "value",
                    "numerator",
                    "denominator",
                    "comment",
                    "source_import_id",
                    "source_row",
                    "updated_at",
                )
            ),
            "indicator__code",
            "indicator__breakdowns",
            "org_unit__code",
            "org_unit__path",
            "entered_by__username",
        )
        .order_by("id")
    )
    serializer_class = MeasurementSerializer
    filterset_class = MeasurementFilterSet
    pagination_class = SyncCursorPagination
    export_name = "measurements"
    upsert = True
    wide_layout = WidePivot(keys=("indicator", "org_unit", "breakdown"), value="value")

    # Not updated_since: with the index on updated_at, PostgreSQL's estimate of a time range
    # picks well between walking the id order (many rows changed) and sorting the few.
    narrow_filters = ("indicator", "org_unit", "changed_since")
    # The indexes measurement_indicator_id and measurement_org_unit_id.
    id_ordered_filters = ("indicator", "org_unit")
    checked_later_filters = ("indicator", "org_unit")

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format in TABULAR_FORMATS:
            # An export is not paged: its watermark is read before its rows, as a page's
            # is where no row carries it (SyncCursorPagination).
            self.paginator.sync_watermark = sync_watermark()
        response = super().list(request, *args, **kwargs)
        if response.status_code == 200:
            response["X-Sync-Watermark"] = str(self.paginator.sync_watermark)
        return response

    def get_queryset(self):
        if self.action == "list":
            return _measurement_list_rows().all()
        return super().get_queryset()

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)  # and its watermark (SyncCursorPagination)
        return page if page is None else with_codes(page)

    def create_object(self, data):
        return editing.set_measurement(user=self.request.user, **data)

    def update_object(self, instance, data):
        return editing.update_measurement(user=self.request.user, measurement=instance, **data)

    def export_table(self, queryset):
        rows = (
            dict(zip(HEADER, values, strict=True))
            for values in queryset.values_list(
                "indicator__code", "org_unit__code", *HEADER[2:]
            ).iterator(chunk_size=EXPORT_CHUNK_ROWS)
        )
        return Table(
            columns=HEADER,
            rows=rows,
            name=self.export_name,
            csv_chunks=measurements_csv_chunks,
            csv_text=copy_csv(queryset, MEASUREMENT_COLUMNS),
            sheet_xml=sheet_xml(queryset, MEASUREMENT_COLUMNS),
        )

    @extend_schema(responses=MeasurementVersionSerializer(many=True))
    @action(detail=True, pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        """Every value this measurement has had: the current one first, then older ones."""
        versions = measurement_history(self.get_object())
        return Response(MeasurementVersionSerializer(versions, many=True).data)


class AggregateViewSet(ReadOnlyViewSet):
    """Roll-ups: what each org unit's children add up to, per indicator, period and breakdown.

    Computed from the units' values by the indicator's `aggregation` (sum; share from summed
    numerators and denominators; mean weighted by the denominator). `covered` of `expected`
    units (those that report the indicator at all) are in the sum, `missing_units` lists the
    others. Where the unit has its own reported value (`own_value`, also in /measurements/)
    that is the one its pages and assessment use. Filters: `indicator`, `org_unit` (+
    `subtree`), `period`, `kind`, `year`, `breakdown`, `complete`.
    """

    queryset = (
        Aggregate.objects.select_related("indicator", "org_unit")
        .annotate(
            own_value=Subquery(
                Measurement.objects.filter(
                    indicator_id=OuterRef("indicator_id"),
                    org_unit_id=OuterRef("org_unit_id"),
                    period=OuterRef("period"),
                    breakdown=OuterRef("breakdown"),
                ).values("value")[:1]
            ),
            sort_id=sort_id(),
        )
        .order_by("id")
    )
    serializer_class = AggregateSerializer
    filterset_class = AggregateFilterSet
    pagination_class = IdCursorPagination
    export_name = "aggregates"
    checked_later_filters = ("indicator", "org_unit")


class AssessmentViewSet(WritableViewSet):
    """Goal fulfilment (måluppfyllelse) and trend per indicator, org unit and period.

    Computed from the measurements; PATCH sets a manual status (with its reason) or the analysis.
    `placement` is the placement that judged it (on the scorecard the unit follows that
    year); `perspective` and the `scorecard` filter go by it.
    """

    http_method_names = ["get", "patch", "head", "options"]
    queryset = (
        Assessment.objects.select_related("indicator", "org_unit", "override_by")
        .annotate(
            perspective_code=F("placement__success_factor__strategic_goal__perspective__code"),
            sort_id=sort_id(),
        )
        .order_by("id")
    )
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilterSet
    pagination_class = IdCursorPagination
    export_name = "assessments"
    wide_layout = WidePivot(keys=("indicator", "org_unit"), value="status")
    narrow_filters = ("indicator", "org_unit", "perspective", "scorecard")
    checked_later_filters = ("indicator", "org_unit")

    def export_table(self, queryset):
        table = super().export_table(assessment_rows(queryset))
        table.csv_text = copy_csv(queryset, ASSESSMENT_COLUMNS)
        table.sheet_xml = sheet_xml(queryset, ASSESSMENT_COLUMNS)
        return table

    def update_object(self, instance, data):
        return editing.update_assessment(user=self.request.user, assessment=instance, **data)
