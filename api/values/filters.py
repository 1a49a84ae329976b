"""Filters for indicators, measurements and assessments (HTML lists and API alike)."""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from api.organisation.filters import (
    CharListFilter,
    ChoiceListFilter,
    CodeListFilter,
    FilterSet,
    IdListFilter,
    ListWidget,
    OrgUnitFilter,
    StrictBooleanFilter,
    subtree_filter,
)
from domain.periods import PERIOD_KIND_REGEX, InvalidPeriod, Period, PeriodKind
from indicators.models import Aggregate, Assessment, Indicator, Measurement, effective_status
from scorecard.models import Perspective, Scorecard, StatusChoices


def _first_month(period: Period) -> int:
    if period.kind is PeriodKind.TERTIAL:
        return 4 * period.number - 3
    if period.kind is PeriodKind.MONTH:
        return period.number
    return 1


def _last_month(period: Period) -> int:
    return period.months_elapsed  # a tertial's last month; a month's own; December


def _codes_of_year(year: int) -> list[Period]:
    return [
        Period(year, PeriodKind.YEAR),
        *(Period(year, PeriodKind.TERTIAL, n) for n in (1, 2, 3)),
        *(Period(year, PeriodKind.MONTH, n) for n in range(1, 13)),
    ]


def period_range(start: Period | None, end: Period | None) -> Q:
    """Periods whose last month lies between the first month of `start` and the last of `end`.

    So 2021..2022 is every month, tertial and year of both years, and 2022-T2..2022-T2 is
    May-August and T2 (year-to-date, it closes in August). Whole years inside the range are
    one indexable string range ("2020" <= code < "2022": every code starts with its year);
    only the years at the edges are listed code by code.
    """
    lo = (start.year, _first_month(start)) if start else None
    hi = (end.year, _last_month(end)) if end else None
    if lo and hi and lo > hi:
        return Q(pk__in=[])
    first_whole = None if lo is None else (lo[0] if lo[1] == 1 else lo[0] + 1)
    last_whole = None if hi is None else (hi[0] if hi[1] == 12 else hi[0] - 1)
    has_whole = first_whole is None or last_whole is None or first_whole <= last_whole

    def whole_year(year: int) -> bool:
        return (
            has_whole
            and (first_whole is None or year >= first_whole)
            and (last_whole is None or year <= last_whole)
        )

    def inside(period: Period) -> bool:
        at = (period.year, _last_month(period))
        return (lo is None or at >= lo) and (hi is None or at <= hi)

    condition = Q(pk__in=[])
    if has_whole:
        whole = Q()
        if first_whole is not None:
            whole &= Q(period__gte=str(first_whole))
        if last_whole is not None:
            whole &= Q(period__lt=str(last_whole + 1))
        condition = whole
    edges = {edge[0] for edge in (lo, hi) if edge is not None and not whole_year(edge[0])}
    codes = [p.code for year in sorted(edges) for p in _codes_of_year(year) if inside(p)]
    if codes:
        condition = condition | Q(period__in=codes) if has_whole else Q(period__in=codes)
    return condition


class PeriodField(forms.CharField):
    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        try:
            return Period.parse(text)
        except InvalidPeriod as exc:
            raise forms.ValidationError("%(error)s", params={"error": str(exc)}) from None


class PeriodListField(forms.CharField):
    widget = ListWidget

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        try:
            return [Period.parse(code).code for code in text.split(",") if code.strip()]
        except InvalidPeriod as exc:
            raise forms.ValidationError("%(error)s", params={"error": str(exc)}) from None


@extend_schema_field(OpenApiTypes.STR)
class PeriodFilter(django_filters.Filter):
    field_class = PeriodField


@extend_schema_field(OpenApiTypes.STR)
class PeriodListFilter(django_filters.Filter):
    field_class = PeriodListField

    def filter(self, qs: QuerySet, value):
        return qs.filter(period__in=value) if value else qs


@extend_schema_field(OpenApiTypes.INT64)
class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class PeriodFilterSet(FilterSet):
    """Period filters shared by everything recorded per period."""

    period = PeriodListFilter(label=_("Period (kommaseparerade, t.ex. 2022-T2,2022)"))
    period_from = PeriodFilter(method="filter_period_range", label=_("Från period"))
    period_to = PeriodFilter(method="filter_period_range", label=_("Till period"))
    period_kind = django_filters.ChoiceFilter(
        choices=[(kind.value, kind.value) for kind in PeriodKind],
        method="filter_period_kind",
        label=_("Periodtyp"),
    )

    def filter_period_range(self, qs: QuerySet, name: str, value: Period) -> QuerySet:
        if name == "period_to" and self.form.cleaned_data.get("period_from"):
            return qs  # applied once, with both ends, by period_from
        start = self.form.cleaned_data.get("period_from")
        end = self.form.cleaned_data.get("period_to")
        return qs.filter(period_range(start, end))

    def filter_period_kind(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(period__regex=PERIOD_KIND_REGEX[PeriodKind(value)])


class MeasurementFilterSet(PeriodFilterSet):
    indicator = CodeListFilter(model=Indicator, field_name="indicator", label=_("Styrmått"))
    org_unit = OrgUnitFilter(field_name="org_unit", label=_("Organisationsenhet"))
    subtree = subtree_filter()
    breakdown = CharListFilter(field_name="breakdown", label=_("Uppdelning"))
    updated_since = django_filters.IsoDateTimeFilter(
        method="filter_updated_since",
        label=_("Ändrade sedan"),
        help_text=(
            "Values changed at or after this time, as the writer's clock saw it. For people; "
            "a sync that keeps the newest time it saw can miss a row that a long import wrote "
            "earlier but committed later: synchronise with changed_since instead."
        ),
    )
    changed_since = IntegerFilter(
        method="filter_changed_since",
        label=_("Ändrade sedan markör"),
        min_value=0,
        max_value=2**63 - 1,
        help_text=(
            "Incremental sync: the sync_watermark (also the X-Sync-Watermark header) of the "
            "first page of your previous sync. Returns every value written since, committed "
            "in any order; a value may come twice, none is left out."
        ),
    )

    class Meta:
        model = Measurement
        fields = ["indicator", "org_unit", "subtree", "breakdown", "updated_since", "changed_since"]

    def filter_updated_since(self, qs: QuerySet, name: str, value: datetime) -> QuerySet:
        # In UTC: ISO 8601 allows offsets (-22:57) that PostgreSQL refuses to parse.
        return qs.filter(updated_at__gte=value.astimezone(UTC))

    def filter_changed_since(self, qs: QuerySet, name: str, value: int) -> QuerySet:
        return qs.filter(change_marker__gte=value)


class AggregateFilterSet(PeriodFilterSet):
    indicator = CodeListFilter(model=Indicator, field_name="indicator", label=_("Styrmått"))
    org_unit = OrgUnitFilter(field_name="org_unit", label=_("Organisationsenhet"))
    subtree = subtree_filter()
    breakdown = CharListFilter(field_name="breakdown", label=_("Uppdelning"))
    complete = StrictBooleanFilter(method="filter_complete", label=_("Alla enheter har värde"))

    class Meta:
        model = Aggregate
        fields = ["indicator", "org_unit", "subtree", "breakdown", "complete"]

    def filter_complete(self, qs: QuerySet, name: str, value: bool) -> QuerySet:
        complete = Q(covered=F("expected"))
        return qs.filter(complete) if value else qs.exclude(complete)


class AssessmentFilterSet(PeriodFilterSet):
    indicator = CodeListFilter(model=Indicator, field_name="indicator", label=_("Styrmått"))
    org_unit = OrgUnitFilter(field_name="org_unit", label=_("Organisationsenhet"))
    subtree = subtree_filter()
    perspective = CodeListFilter(
        model=Perspective,
        field_name="placement__success_factor__strategic_goal__perspective",
        label=_("Perspektiv"),
    )
    scorecard = IdListFilter(
        model=Scorecard,
        field_name="placement__scorecard",
        label=_("Styrkort (id, kommaseparerade)"),
    )
    status = ChoiceListFilter(
        choices=StatusChoices.choices, method="filter_status", label=_("Måluppfyllelse")
    )
    overridden = StrictBooleanFilter(method="filter_overridden", label=_("Manuellt ändrad"))

    class Meta:
        model = Assessment
        fields = [
            "indicator",
            "org_unit",
            "subtree",
            "perspective",
            "scorecard",
            "status",
            "overridden",
        ]

    def filter_status(self, qs: QuerySet, name: str, value: list[str]) -> QuerySet:
        return qs.alias(shown=effective_status()).filter(shown__in=value)

    def filter_overridden(self, qs: QuerySet, name: str, value: bool) -> QuerySet:
        return qs.exclude(override_status="") if value else qs.filter(override_status="")
