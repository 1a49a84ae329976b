"""The reporting cycle in the browser: deadlines (administrators), the completeness board of
a unit's report, and the administrators' overview of every division's board.

Thin views: authorise (divisions.access), validate (reporting.forms), call the service
(scorecard.deadlines) or the selector (dashboard.selectors.completeness), render.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import Actor
from dashboard.selectors.completeness import Completeness, completeness, divisions_completeness
from divisions.access import can_write, ensure_administrator, org_unit_for_reading
from domain.completeness import GapKind
from scorecard import deadlines
from scorecard.models import ReportingDeadline

from .forms import DeadlineForm
from .views import _period


def gap_labels() -> dict[str, str]:
    """What each kind of gap is called on the board, in the overview and in the reminders."""
    return {
        GapKind.VALUE: _("Utfall saknas"),
        GapKind.ANALYSIS: _("Analys saknas"),
        GapKind.PERSPECTIVE: _("Samlad bedömning saknas"),
        GapKind.ACTION: _("Ej uppfyllt utan pågående åtgärd"),
    }


def _groups(board: Completeness) -> list[tuple[str, str, int, list]]:
    labels = gap_labels()
    return [(kind, labels[kind], count, gaps) for kind, count, gaps in board.groups]


def _deadline_of(period: str) -> ReportingDeadline | None:
    return ReportingDeadline.objects.filter(period=period).first()


def _days_left(deadline: ReportingDeadline | None) -> int | None:
    return None if deadline is None else (deadline.due_date - timezone.localdate()).days


@require_GET
def board(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    """What the unit's report of the period still lacks, each gap linking to its form."""
    unit = org_unit_for_reading(request.user, org_unit)
    period = _period(period)
    deadline = _deadline_of(period)
    found = completeness(unit, period, deadline=deadline)
    return render(
        request,
        "reporting/board.html",
        {
            "org_unit": unit,
            "period": period,
            "board": found,
            "groups": _groups(found),
            "deadline": deadline,
            "days_left": _days_left(deadline),
            "can_fill": can_write(request.user, unit),
            "nav": "report",
        },
    )


@require_GET
def overview(request: HttpRequest, period: str) -> HttpResponse:
    """Every division's board of the period in one table (administrators)."""
    ensure_administrator(request.user)
    period = _period(period)
    deadline = _deadline_of(period)
    boards = divisions_completeness(period, deadline=deadline)
    return render(
        request,
        "reporting/overview.html",
        {
            "period": period,
            "boards": boards,
            "rows": [(board, _groups(board)) for board in boards],
            "labels": list(gap_labels().values()),
            "deadline": deadline,
            "days_left": _days_left(deadline),
            "complete": sum(1 for b in boards if b.complete),
            "nav": "report",
        },
    )


@require_http_methods(["GET", "POST"])
def deadline_list(request: HttpRequest) -> HttpResponse:
    """The deadlines of the report periods; set one (a period's again moves it)."""
    ensure_administrator(request.user)
    form = DeadlineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        deadline = deadlines.set_deadline(
            actor=Actor.from_request(request),
            period=form.cleaned_data["period"],
            due_date=form.cleaned_data["due_date"],
            remind_days_before=form.cleaned_data["remind_days_before"],
        )
        messages.success(
            request,
            _("Sista dag för %(period)s är %(date)s.")
            % {"period": deadline.period, "date": deadline.due_date.isoformat()},
        )
        return redirect("reporting:deadlines")
    return render(
        request,
        "reporting/deadlines.html",
        {
            "form": form,
            "deadlines": ReportingDeadline.objects.select_related("set_by").order_by("-due_date"),
            "today": timezone.localdate(),
            "nav": "report",
        },
        status=400 if form.is_bound else 200,
    )


@require_POST
def deadline_remove(request: HttpRequest, pk: int) -> HttpResponse:
    ensure_administrator(request.user)
    deadline = get_object_or_404(ReportingDeadline, pk=pk)
    period = deadline.period
    deadlines.remove_deadline(actor=Actor.from_request(request), deadline=deadline)
    messages.success(request, _("Tidsfristen för %(period)s är borttagen.") % {"period": period})
    return redirect("reporting:deadlines")
