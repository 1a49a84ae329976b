"""The national comparison: Kolada's annual values as stored by the sync (read-only)."""

from __future__ import annotations

from api.base import ReadOnlyViewSet
from benchmarks.models import BenchmarkValue
from benchmarks.selectors import area_names

from .filters import BenchmarkValueFilterSet
from .serializers import BenchmarkValueSerializer


class BenchmarkValueViewSet(ReadOnlyViewSet):
    """Kolada's annual key figures for the region, the country (area 0000) and the peer
    regions, for the KPIs indicators are mapped to (Source: Kolada (RKA), CC BY 4.0).

    Filters: `kpi`, `indicator` (its mapped KPI), `area`, `year`, `year_from`, `gender`.
    Read-only: the values change through the sync only.
    """

    queryset = BenchmarkValue.objects.order_by("kpi_id", "area", "year", "gender")
    serializer_class = BenchmarkValueSerializer
    filterset_class = BenchmarkValueFilterSet
    export_name = "benchmarks"

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["area_names"] = area_names(
            BenchmarkValue.objects.values_list("area", flat=True).distinct()
        )
        return context
