from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.base import TABULAR_FORMATS, ApiMixin
from api.renderers import Table
from api.reports.serializers import ReportLineSerializer, ReportSerializer, report_data
from dashboard.selectors.final import shown_report
from divisions.selectors import get_org_unit
from domain.periods import InvalidPeriod, Period


class ReportView(ApiMixin, APIView):
    """The report (styrkort) of an org unit for a period, as the page and the PDF show it.

    While the period is closed for the unit (`frozen`: true) this is the report as it was
    closed, whatever changed since (a new scorecard, a renamed indicator, a moved org unit).
    After a reopening (`corrected_after_close`: true) it is the report of today, and
    `corrections` (and each line's `corrected` and `frozen_value`) say how it differs from
    the closed one. CSV and XLSX give the lines.
    """

    export_name = "report"

    def get_renderers(self):
        # Not a viewset action: the report's lines are a table too (CSV, XLSX).
        return APIView.get_renderers(self)

    @extend_schema(
        responses=ReportSerializer,
        parameters=[
            OpenApiParameter("org_unit", str, OpenApiParameter.PATH, description="e.g. div_nara"),
            OpenApiParameter("period", str, OpenApiParameter.PATH, description="2022-T2"),
        ],
    )
    def get(self, request, org_unit: str, period: str):
        unit = get_org_unit(org_unit) if "\x00" not in org_unit else None
        if unit is None:
            raise Http404("no such org unit")
        try:
            period_code = Period.parse(period).code
        except InvalidPeriod:
            raise Http404("no such period") from None
        data = report_data(shown_report(unit, period_code))
        if request.accepted_renderer.format in TABULAR_FORMATS:
            columns = list(ReportLineSerializer().fields)
            if not data["corrected_after_close"]:
                columns = [c for c in columns if c not in ("corrected", "frozen_value")]
            for line in data["lines"]:
                columns.extend(key for key in line if key not in columns)
            name = f"report_{data['org_unit']}_{data['period']}"
            return Response(Table(columns=columns, rows=data["lines"], name=name))
        return Response(data)
