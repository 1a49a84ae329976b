"""Filters of the national comparison's values."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from api.organisation.filters import CharListFilter, ChoiceListFilter, CodeListFilter, FilterSet
from api.values.filters import IntegerFilter
from benchmarks.models import BenchmarkValue, Gender
from indicators.models import Indicator


@extend_schema_field(OpenApiTypes.STR)
class IndicatorKpiFilter(CodeListFilter):
    """Indicator codes: the values of the Kolada KPIs they are mapped to."""

    columns = ("kolada_kpi",)

    def filter(self, qs: QuerySet, value):
        if not value:
            return qs
        return qs.filter(kpi_id__in=[i.kolada_kpi for i in value if i.kolada_kpi])


class BenchmarkValueFilterSet(FilterSet):
    kpi = CharListFilter(field_name="kpi_id", label=_("Kolada-nyckeltal"))
    indicator = IndicatorKpiFilter(model=Indicator, field_name="code", label=_("Styrmått"))
    area = CharListFilter(field_name="area", label=_("Kolada-område"))
    year = IntegerFilter(field_name="year", label=_("År"))
    year_from = IntegerFilter(field_name="year", lookup_expr="gte", label=_("Från år"))
    gender = ChoiceListFilter(choices=Gender.choices, field_name="gender", label=_("Kön"))

    class Meta:
        model = BenchmarkValue
        fields: list[str] = []
