"""The national comparison's values as the API gives them."""

from __future__ import annotations

from rest_framework import serializers

from api.values.serializers import DecimalText
from benchmarks.models import BenchmarkValue


class BenchmarkValueSerializer(serializers.ModelSerializer):
    kpi = serializers.CharField(source="kpi_id", help_text="The Kolada KPI id, e.g. N79173.")
    area = serializers.CharField(
        help_text="Kolada's area id: 0000 the country, 00LL a region (0025 Norrbotten)."
    )
    area_name = serializers.SerializerMethodField()
    gender = serializers.CharField(help_text="T total, K women, M men.")
    value = DecimalText(max_digits=18, decimal_places=6, read_only=True, allow_null=True)

    class Meta:
        model = BenchmarkValue
        fields = [
            "kpi",
            "area",
            "area_name",
            "year",
            "gender",
            "value",
            "count",
            "status",
            "source",
            "publication_date",
            "fetched_at",
        ]
        read_only_fields = fields

    def get_area_name(self, obj: BenchmarkValue) -> str:
        return self.context.get("area_names", {}).get(obj.area, obj.area)
