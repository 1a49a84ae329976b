"""Admin of the national comparison: read-only; values change through the sync only."""

from django.contrib import admin

from audit.admin import ReadOnlyAdmin

from .models import BenchmarkArea, BenchmarkKpi, BenchmarkSync, BenchmarkValue


@admin.register(BenchmarkKpi)
class BenchmarkKpiAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "publication_date", "is_divided_by_gender", "withdrawn_at"]
    search_fields = ["id", "title"]


@admin.register(BenchmarkArea)
class BenchmarkAreaAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "type"]


@admin.register(BenchmarkValue)
class BenchmarkValueAdmin(ReadOnlyAdmin):
    list_display = ["kpi", "area", "year", "gender", "value", "status", "source", "fetched_at"]
    list_filter = ["gender", "area", "year"]
    search_fields = ["kpi__id"]


@admin.register(BenchmarkSync)
class BenchmarkSyncAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "outcome", "created", "changed", "unchanged", "source"]
    list_filter = ["outcome"]
