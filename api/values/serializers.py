from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F
from django.utils import timezone
from rest_framework import serializers

from api.copy_csv import PlainDecimalText
from api.organisation.serializers import CodeField
from api.pagination import sort_id
from api.structure.serializers import KEY_HELP, KeyFieldsOnCreateMixin
from dashboard.page_cache import caching, data_version_column
from divisions.models import OrgUnit
from domain.measurements import number_problems
from domain.numbers import plain_decimal
from domain.periods import InvalidPeriod, Period
from domain.rules import Status, status_after_override
from indicators.messages import say
from indicators.models import Aggregate, Assessment, Indicator, Measurement, Target
from indicators.selectors import sync_watermark_column
from scorecard.models import StatusChoices

DECIMAL = {"max_digits": 20, "decimal_places": 6}


class DecimalText(serializers.DecimalField):
    """A decimal as an exact string, "92.5" or "1123" (DRF's default, COERCE_DECIMAL_TO_STRING):
    a JSON number is a float to most readers, and 0.1 + 0.2 is not 0.3 there. Written as the
    CSV export writes it, without trailing zeros or exponent."""

    def to_representation(self, value):
        return None if value is None else plain_decimal(value)


def _text(value) -> str | None:
    # Text already where the database wrote it (measurement_rows on PostgreSQL).
    if value is None or type(value) is str:
        return value
    return plain_decimal(value)


class LocalTimes:
    """Times as DateTimeField writes them (ISO 8601 in the current time zone, Z for UTC),
    for rows read without model instances. The rows of one import share their time, so the
    last text is kept: a page of 100 formats one or two times instead of 100."""

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()
        self.last: tuple[datetime | None, str] = (None, "")

    def text(self, value: datetime) -> str:
        if value == self.last[0]:
            return self.last[1]
        local = value.astimezone(self.zone).isoformat()
        text = local[:-6] + "Z" if local.endswith("+00:00") else local
        self.last = (value, text)
        return text


class PeriodField(serializers.CharField):
    """A period code, canonicalised: 2022, 2022-T1..2022-T3, 2022-01..2022-12."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 8)
        kwargs.setdefault("help_text", "2022 (year), 2022-T2 (tertial, year-to-date), 2022-08.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return Period.parse(text).code
        except InvalidPeriod as exc:
            raise serializers.ValidationError(say(exc.args[0])) from None


class TargetSerializer(serializers.ModelSerializer):
    org_unit = CodeField(read_only=True, allow_null=True)
    value = DecimalText(max_digits=18, decimal_places=6, read_only=True, allow_null=True)
    band = DecimalText(max_digits=18, decimal_places=6, read_only=True, allow_null=True)
    relative_change = DecimalText(max_digits=8, decimal_places=6, read_only=True, allow_null=True)

    class Meta:
        model = Target
        fields = [
            "year",
            "org_unit",
            "breakdown",
            "kind",
            "value",
            "band",
            "base_year",
            "relative_change",
            "annual",
            "text",
        ]


class IndicatorSerializer(serializers.ModelSerializer):
    """A regional catalogue entry; where it sits on each scorecard is in /placements/."""

    breakdowns = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Every breakdown some scorecard follows: what a measurement may have.",
    )
    trend_band = DecimalText(max_digits=18, decimal_places=6, read_only=True)
    targets = TargetSerializer(
        many=True,
        read_only=True,
        help_text=(
            "Per year (null = every year without its own), org unit (null = region-wide) and "
            "breakdown (empty = total and the gender split)."
        ),
    )

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name",
            "unit",
            "direction",
            "aggregation",
            "breakdowns",
            "trend_band",
            "targets",
            "kolada_kpi",
        ]


class CellKeySerializer(KeyFieldsOnCreateMixin, serializers.ModelSerializer):
    """A row keyed by one cell of the report: indicator, org unit, period and breakdown,
    given by code on create and read-only after (measurements, cell comments)."""

    key_fields = ("indicator", "org_unit", "period", "breakdown")
    indicator = CodeField(queryset=Indicator.objects.all(), help_text=KEY_HELP)
    org_unit = CodeField(queryset=OrgUnit.objects.all(), help_text=KEY_HELP)
    period = PeriodField()
    breakdown = serializers.CharField(
        max_length=64,
        default="total",
        help_text="total, women, men or a key the indicator declares. " + KEY_HELP,
    )


class MeasurementSerializer(CellKeySerializer):
    value = DecimalText(**DECIMAL)
    numerator = DecimalText(**DECIMAL, allow_null=True, required=False)
    denominator = DecimalText(**DECIMAL, allow_null=True, required=False, min_value=0)
    comment = serializers.CharField(allow_blank=True, required=False, default="")
    entered_by = CodeField("username", read_only=True, allow_null=True)

    class Meta:
        model = Measurement
        fields = [
            "id",
            "indicator",
            "org_unit",
            "period",
            "breakdown",
            "value",
            "numerator",
            "denominator",
            "comment",
            "source_import",
            "source_row",
            "entered_by",
            "updated_at",
        ]
        read_only_fields = ["source_import", "source_row", "updated_at"]
        validators = []  # the key is an upsert key, not a conflict

    def validate(self, attrs):
        attrs = super().validate(attrs)
        problems = number_problems(
            value=attrs.get("value"),
            numerator=attrs.get("numerator"),
            denominator=attrs.get("denominator"),
        )
        if problems:
            raise serializers.ValidationError({k: say(v) for k, v in problems.items()})
        return attrs

    def to_representation(self, instance):
        if type(instance) is not dict:  # isinstance(x, Mapping) took 1 µs of every row
            return super().to_representation(instance)
        # Lists come as plain rows (MeasurementViewSet.get_queryset): field by field, DRF
        # would spend most of a 500-row page here. The output is the same as above.
        return {
            "id": instance["id"],
            "indicator": instance["indicator_code"],
            "org_unit": instance["org_unit_code"],
            "period": instance["period"],
            "breakdown": instance["breakdown"],
            "value": _text(instance["value_text"]),
            "numerator": _text(instance["numerator_text"]),
            "denominator": _text(instance["denominator_text"]),
            "comment": instance["comment"],
            "source_import": instance["source_import_id"],
            "source_row": instance["source_row"],
            "entered_by": instance["entered_by_username"],
            "updated_at": self._times.text(instance["updated_at"]),
        }

    @cached_property
    def _times(self) -> LocalTimes:
        return LocalTimes()


def measurement_rows(queryset):
    """The list's rows as MeasurementSerializer reads them, without model instances, once
    `with_codes` has named their indicator, org unit and user.

    One table, no joins: joined, the page of 100 took PostgreSQL 1.5 ms (most of it
    planning the joins), against 0.4 ms alone and 0.3 ms for the codes of the page's ids.
    `sort_id` (= id) is what IdCursorPagination orders narrow requests by; `watermark`,
    where the database gives it, the sync watermark of the page (SyncCursorPagination).
    The numbers come as `value_text` and so on: text where PostgreSQL writes it
    (PlainDecimalText; read as Decimals and formatted in Python, the three numbers of a page
    of 100 shares took a third of a millisecond), otherwise the Decimals the serializer
    formats.
    """
    watermark, version = sync_watermark_column(), data_version_column()
    if watermark is not None:
        queryset = queryset.annotate(watermark=watermark)
    if version is not None:
        queryset = queryset.annotate(data_version=version)
    number = PlainDecimalText if connection.vendor == "postgresql" else F
    return queryset.annotate(sort_id=sort_id()).values(
        "id",
        "sort_id",
        "indicator_id",
        "org_unit_id",
        "period",
        "breakdown",
        "comment",
        "source_import_id",
        "source_row",
        "updated_at",
        "entered_by_id",
        *(() if watermark is None else ("watermark",)),
        *(() if version is None else ("data_version",)),
        value_text=number("value"),
        numerator_text=number("numerator"),
        denominator_text=number("denominator"),
    )


# (model, its name column, the row's id key, the row's name key) for `with_codes`.
_CODE_SOURCES = (
    (Indicator, "code", "indicator_id", "indicator_code"),
    (OrgUnit, "code", "org_unit_id", "org_unit_code"),
    (get_user_model(), "username", "entered_by_id", "entered_by_username"),
)


class _KnownNames:
    """The codes and user names pages have named, for as long as the data version their
    page was read at holds (dashboard.page_cache: every change to indicators, org units or
    users' names gives a new one). A name is filed under the version of the page whose
    statement came before its own query, so it is never older than that version."""

    LIMIT = 50_000  # names kept at most; the whole catalogue is a few thousand

    def __init__(self) -> None:
        self.version: int | None = None
        self.names: list[dict] = [{} for _ in _CODE_SOURCES]

    def at(self, version: int | None) -> list[dict] | None:
        """The names known at this version (emptied when it is new), or None: not to be kept."""
        if version is None or not caching():
            return None
        if version != self.version or sum(map(len, self.names)) > self.LIMIT:
            # A new object, not emptied in place: a thread still on the old version keeps
            # filling what it holds.
            self.names = [{} for _ in _CODE_SOURCES]
            self.version = version
        return self.names


_known = _KnownNames()


def with_codes(rows: list[dict]) -> list[dict]:
    """The rows of `measurement_rows`, each given its indicator's and org unit's code and
    its user's name: at most one query for the whole page, whatever its size, and none when
    every name is known at the page's data version."""
    if not rows:
        return rows
    known = _known.at(rows[0].get("data_version"))
    names: list[dict] = [{} for _ in _CODE_SOURCES] if known is None else known
    # Raw SQL: the ORM's union of the same three queries took 3 ms to build, ten times
    # what PostgreSQL takes to answer it.
    parts, params = [], []
    for source, (model, column, id_key, _name_key) in enumerate(_CODE_SOURCES):
        ids = {row[id_key] for row in rows} - {None} - names[source].keys()
        if ids:
            marks = ", ".join(["%s"] * len(ids))
            parts.append(
                f"SELECT {source}, id, {column} FROM {model._meta.db_table} WHERE id IN ({marks})"
            )
            params.extend(ids)
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for source, pk, name in cursor.fetchall():
                names[source][pk] = name
    for row in rows:
        for found, (_model, _column, id_key, name_key) in zip(names, _CODE_SOURCES, strict=True):
            row[name_key] = found.get(row[id_key])
    return rows


class MeasurementVersionSerializer(serializers.Serializer):
    value = DecimalText(**DECIMAL)
    numerator = DecimalText(**DECIMAL, allow_null=True)
    denominator = DecimalText(**DECIMAL, allow_null=True)
    comment = serializers.CharField()
    source_import = serializers.IntegerField(source="source_import_id", allow_null=True)
    source_row = serializers.IntegerField(allow_null=True)
    entered_by = serializers.CharField(allow_null=True)
    valid_from = serializers.DateTimeField()
    valid_to = serializers.DateTimeField(allow_null=True, help_text="null: the current value")


class AssessmentSerializer(serializers.ModelSerializer):
    indicator = CodeField(read_only=True)
    org_unit = CodeField(read_only=True)
    perspective = serializers.CharField(
        source="perspective_code",
        read_only=True,
        allow_null=True,
        help_text="Where the scorecard the unit follows that year places the indicator.",
    )
    status = serializers.ChoiceField(
        choices=StatusChoices.choices,
        read_only=True,
        help_text="What readers see: the manual status where set, else the computed one.",
    )
    override_status = serializers.ChoiceField(
        choices=[("", "(none)"), *StatusChoices.choices],
        required=False,
        help_text="Empty clears the override. A manual status needs override_comment.",
    )
    override_by = CodeField("username", read_only=True, allow_null=True)
    details = serializers.DictField(
        child=serializers.DictField(),
        read_only=True,
        help_text="Per breakdown: status, trend, threshold, target.",
    )

    class Meta:
        model = Assessment
        fields = [
            "id",
            "indicator",
            "org_unit",
            "perspective",
            "placement",
            "period",
            "status",
            "computed_status",
            "override_status",
            "override_comment",
            "override_by",
            "trend",
            "details",
            "analysis",
            "computed_at",
        ]
        read_only_fields = ["period", "placement", "computed_status", "trend", "computed_at"]
        extra_kwargs = {"override_comment": {"required": False}, "analysis": {"required": False}}

    def to_representation(self, instance):
        if type(instance) is not dict:
            return super().to_representation(instance)
        # Exports come as plain rows (assessment_rows): field by field through model
        # instances, DRF wrote 2,000 rows/s. The output is the same as above (a test compares).
        return {
            "id": instance["id"],
            "indicator": instance["indicator_code"],
            "org_unit": instance["org_unit_code"],
            "perspective": instance["perspective_code"],
            "placement": instance["placement_id"],
            "period": instance["period"],
            "status": (
                instance["computed_status"]
                if not instance["override_status"]  # the common case, without the rule's enums
                else status_after_override(
                    Status(instance["computed_status"]),
                    Status(instance["override_status"]),
                    instance["override_comment"],
                ).value
            ),
            "computed_status": instance["computed_status"],
            "override_status": instance["override_status"],
            "override_comment": instance["override_comment"],
            "override_by": instance["override_by_username"],
            "trend": instance["trend"],
            "details": instance["details"],  # JSON from the database: its keys are text
            "analysis": instance["analysis"],
            "computed_at": self._times.text(instance["computed_at"]),
        }

    @cached_property
    def _times(self) -> LocalTimes:
        return LocalTimes()


def assessment_rows(queryset):
    """AssessmentViewSet's rows as AssessmentSerializer reads them, without model instances
    (on PostgreSQL the CSV and XLSX exports read theirs through COPY: api.copy_csv)."""
    return queryset.values(
        "id",
        "perspective_code",
        "placement_id",
        "period",
        "computed_status",
        "override_status",
        "override_comment",
        "trend",
        "details",
        "analysis",
        "computed_at",
        indicator_code=F("indicator__code"),
        org_unit_code=F("org_unit__code"),
        override_by_username=F("override_by__username"),
    )


class AggregateSerializer(serializers.ModelSerializer):
    """What an org unit's children add up to for one key, and which units it covers."""

    indicator = CodeField(read_only=True)
    org_unit = CodeField(read_only=True)
    value = DecimalText(**DECIMAL, read_only=True)
    numerator = DecimalText(max_digits=24, decimal_places=6, read_only=True, allow_null=True)
    denominator = DecimalText(max_digits=24, decimal_places=6, read_only=True, allow_null=True)
    coverage = serializers.SerializerMethodField(
        help_text="Share of the expected units the sum covers (covered / expected)."
    )
    missing_units = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Codes of the units that report the indicator but have no value here.",
    )
    own_value = DecimalText(
        **DECIMAL,
        read_only=True,
        allow_null=True,
        help_text="The unit's own reported value for the key, if any: it wins on the pages.",
    )

    class Meta:
        model = Aggregate
        fields = [
            "id",
            "indicator",
            "org_unit",
            "period",
            "breakdown",
            "value",
            "numerator",
            "denominator",
            "covered",
            "expected",
            "coverage",
            "missing_units",
            "own_value",
            "computed_at",
        ]

    def get_coverage(self, aggregate: Aggregate) -> str:
        share = Decimal(aggregate.covered) / Decimal(aggregate.expected or 1)
        return plain_decimal(share.quantize(Decimal("0.0001")))
