"""The audit trail as pages: per object, and per report (org unit and period). Read-only."""

from django.apps import apps
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.selectors import history_of, history_of_report
from divisions.access import org_unit_for_reading
from domain.periods import InvalidPeriod, Period

# URL word -> model; only these kinds have a history page.
KINDS = {
    "utfall": "indicators.Measurement",
    "maluppfyllelse": "indicators.Assessment",
    "cellkommentar": "indicators.CellComment",
    "mal": "indicators.Target",
    "styrmatt": "indicators.Indicator",
    "samlad-bedomning": "scorecard.PerspectiveAssessment",
    "atgard": "scorecard.Action",
    "stangning": "scorecard.PeriodClose",
    "organisation": "divisions.OrgUnit",
}


@require_GET
def object_history(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    label = KINDS.get(kind)
    if label is None:
        raise Http404("no history for this kind")
    model = apps.get_model(label)
    obj = model._default_manager.filter(pk=pk).first()
    items = history_of(obj) if obj is not None else []
    if obj is None and not items:
        raise Http404("unknown object")
    org_unit = getattr(obj, "org_unit", None)
    if org_unit is not None:
        org_unit_for_reading(request.user, org_unit.code)
    return render(
        request,
        "dashboard/history.html",
        {"object": obj, "model_name": model._meta.verbose_name, "items": items},
    )


@require_GET
def report_history(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    unit = org_unit_for_reading(request.user, org_unit)
    try:
        period = Period.parse(period).code
    except InvalidPeriod as exc:
        raise Http404(str(exc)) from None
    return render(
        request,
        "dashboard/report_history.html",
        {"org_unit": unit, "period": period, "items": history_of_report(unit, period)},
    )
