from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from divisions.models import OrgUnit
from divisions.selectors import default_org_unit_for, get_org_unit
from indicators.periods import InvalidPeriod, Period
from indicators.selectors import periods_with_data

from .selectors import division_report, group_report


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    unit = default_org_unit_for(request.user)
    if unit is None:
        return render(request, "scorecard/empty.html")
    periods = periods_with_data(unit)
    if not periods:
        return render(request, "scorecard/empty.html", {"org_unit": unit})
    return redirect("scorecard:division", org_unit=unit.code, period=periods[0])


@require_GET
def division_scorecard(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    unit = get_org_unit(org_unit)
    if unit is None:
        raise Http404("no such org unit")
    try:
        period_code = Period.parse(period).code
    except InvalidPeriod as exc:
        raise Http404(str(exc)) from None
    if period_code != period:
        return redirect("scorecard:division", org_unit=unit.code, period=period_code)
    lines = division_report(unit, period_code)
    return render(
        request,
        "scorecard/division.html",
        {
            "org_unit": unit,
            "period": period_code,
            "periods": periods_with_data(unit),
            "org_units": OrgUnit.objects.all(),
            "perspectives": group_report(lines),
        },
    )


@require_GET
def choose(request: HttpRequest) -> HttpResponse:
    """The selector form posts here by GET; turn its fields into the canonical URL."""
    unit = get_org_unit(request.GET.get("org_unit", ""))
    if unit is None:
        raise Http404("no such org unit")
    period = request.GET.get("period", "")
    try:
        period = Period.parse(period).code
    except InvalidPeriod:
        periods = periods_with_data(unit)
        if not periods:
            return render(request, "scorecard/empty.html", {"org_unit": unit})
        period = periods[0]
    return redirect("scorecard:division", org_unit=unit.code, period=period)
