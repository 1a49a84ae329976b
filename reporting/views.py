"""The tertial report in the browser: values, analysis, overrides, perspective assessments,
the action plan, and closing the period.

Each view: authorise and fetch (divisions.access), validate (reporting.forms), call one
service (indicators.editing, scorecard.editing, dashboard.freezing), render or redirect.
A closed period comes back from the services as PeriodClosed and is answered with 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import Source
from audit.services import Actor
from dashboard import freezing
from dashboard.selectors.final import shown_report
from dashboard.selectors.overview import perspective_grid
from dashboard.selectors.report import group_report
from divisions.access import (
    can_write,
    ensure_administrator,
    is_administrator,
    org_unit_for_reading,
    org_unit_for_writing,
)
from divisions.models import OrgUnit
from divisions.selectors import default_org_unit_for
from domain.periods import InvalidPeriod, Period
from indicators import comments as cell_comments
from indicators import editing as indicator_editing
from indicators.editing import ValueInput
from indicators.models import CommentState, Indicator, Placement
from indicators.scorecards import placement_for, scorecard_for
from indicators.selectors import cell_comments_of, comment_for_editing, periods_with_data
from scorecard import closing
from scorecard import editing as scorecard_editing
from scorecard.models import Action, Perspective, PerspectiveAssessment

from .forms import (
    ActionForm,
    AnalysisForm,
    CellCommentForm,
    CloseForm,
    IndicatorForms,
    MeasurementForm,
    OverrideForm,
    PerspectiveAssessmentForm,
    ReopenForm,
)
from .selectors import (
    IndicatorState,
    indicator_on_scorecard,
    indicator_state,
    perspective_rows,
)


def _period(code: str) -> str:
    try:
        period = Period.parse(code).code
    except InvalidPeriod as exc:
        raise Http404(str(exc)) from None
    if period != code:
        raise Http404("use the canonical period code")
    return period


def closed_period_is_403(view: Callable) -> Callable:
    """A write refused because the period is closed: say so, with 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except closing.PeriodClosed as exc:
            return render(
                request,
                "reporting/closed.html",
                {"message": str(exc), "org_unit": exc.org_unit, "period": exc.period},
                status=403,
            )

    return wrapper


def _for_writing(request: HttpRequest, org_unit: str, period: str) -> tuple[OrgUnit, str]:
    """The unit if the user may change it (404/403), the period if valid and open."""
    unit = org_unit_for_writing(request.user, org_unit)
    period = _period(period)
    closing.ensure_open(unit, period)
    return unit, period


# ----------------------------------------------------------------------------- the report


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """The nav link: the user's own unit (else the first division), its latest period."""
    unit = default_org_unit_for(request.user)
    periods = periods_with_data(unit) if unit is not None else []
    if not periods:
        raise Http404("nothing to report yet")
    return redirect(_report_url(unit, periods[0]))


@require_GET
def report(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    unit = org_unit_for_reading(request.user, org_unit)
    period = _period(period)
    report = shown_report(unit, period)
    closure, page = report.closure, report.page
    rows = perspective_rows(unit, period)
    if page.final is not None:
        # The perspective assessments and the period's action plan as closed.
        closed = {section.perspective.code: section for section in page.sections}
        rows = [
            replace(
                row,
                assessment=closed[row.perspective.code].cell.assessment,
                actions=closed[row.perspective.code].actions,
            )
            if row.perspective.code in closed
            else row
            for row in rows
        ]
    return render(
        request,
        "reporting/report.html",
        {
            "org_unit": unit,
            "page": page,
            "period": period,
            "closure": closure,
            "editable": closure is None and can_write(request.user, unit),
            # A closed period freezes its action plan with the rest of the report.
            "actions_editable": closure is None and can_write(request.user, unit),
            "can_close": is_administrator(request.user),
            "closed_here": closure is not None and closure.org_unit_id == unit.pk,
            "close_form": CloseForm(),
            "reopen_form": ReopenForm(),
            "perspectives": group_report(page.lines),
            "perspective_rows": rows,
            "nav": "report",
        },
    )


# ----------------------------------------------------------------------------- indicator


def _indicator_forms(
    item: Placement, state: IndicatorState, data: QueryDict | None = None, only: str = ""
) -> IndicatorForms:
    """The parts of the indicator's form, bound to `data` (all, or the part `only`)."""

    def bound(name: str) -> QueryDict | None:
        return data if not only or only == name else None

    values = []
    for breakdown in item.breakdowns:
        measurement = state.measurements.get(breakdown)
        initial = (
            {
                "value": measurement.value.normalize(),
                "numerator": measurement.numerator,
                "denominator": measurement.denominator,
                "comment": measurement.comment,
            }
            if measurement
            else {}
        )
        form = MeasurementForm(
            bound(f"value:{breakdown}"),
            indicator=item,
            breakdown=breakdown,
            initial=initial,
            prefix=breakdown,
        )
        values.append((breakdown, form, measurement))
    assessment = state.assessment
    return IndicatorForms(
        values=values,
        analysis=AnalysisForm(bound("analysis"), initial={"analysis": state.draft_analysis}),
        override=OverrideForm(
            bound("override"),
            initial={
                "status": assessment.override_status if assessment else "",
                "comment": assessment.override_comment if assessment else "",
            },
        ),
        stored_analysis=assessment.analysis if assessment else "",
    )


def _render_indicator(
    request: HttpRequest,
    unit: OrgUnit,
    period: str,
    item: Placement,
    state: IndicatorState,
    forms: IndicatorForms,
    status: int = 200,
) -> HttpResponse:
    errors = forms.errors()
    if errors:
        forms.focus_first_error()
    return render(
        request,
        "reporting/indicator.html",
        {
            "org_unit": unit,
            "period": period,
            "indicator": item,
            "state": state,
            "assessment": state.assessment,
            "forms": forms,
            "value_forms": forms.values,
            "analysis_form": forms.analysis,
            "override_form": forms.override,
            "errors": errors,
            "comments": cell_comments_of(item.indicator, unit, period),
            "draft": bool(
                state.previous_analysis and not (state.assessment and state.assessment.analysis)
            ),
        },
        status=status,
    )


def _indicator_page(
    request: HttpRequest, unit: OrgUnit, period: str, indicator_code: str, part: str = ""
) -> HttpResponse:
    """The page again after a refused save of one part (the old one-part endpoints)."""
    item = indicator_on_scorecard(unit, period, indicator_code)
    state = indicator_state(item, unit, period)
    forms = _indicator_forms(item, state, request.POST, only=part)
    forms.validate([part])
    return _render_indicator(request, unit, period, item, state, forms, status=400)


def _back_to_indicator(unit: OrgUnit, period: str, indicator: str) -> HttpResponse:
    return redirect("reporting:indicator", org_unit=unit.code, period=period, indicator=indicator)


def _saved(forms: IndicatorForms, parts: list[str]) -> str:
    return _("Sparat: %(parts)s.") % {"parts": ", ".join(forms.title(p) for p in parts)}


@require_http_methods(["GET", "POST"])
@closed_period_is_403
def indicator_page(request: HttpRequest, org_unit: str, period: str, indicator: str):
    """The indicator's form: GET shows it; POST saves the part whose button was pressed
    ("save" = "value:<breakdown>", "analysis", "override"), or everything that differs from
    what is stored ("all"). What was typed in the other parts stays on the page, unsaved
    and said so; a refused save shows every error at the top and focuses the first."""
    unit, period = _for_writing(request, org_unit, period)
    item = indicator_on_scorecard(unit, period, indicator)
    state = indicator_state(item, unit, period)
    if request.method == "GET":
        return _render_indicator(request, unit, period, item, state, _indicator_forms(item, state))
    forms = _indicator_forms(item, state, request.POST)
    save = request.POST.get("save", "all")
    parts = forms.unsaved() if save not in forms.parts else [save]
    edited = forms.edited()
    if not forms.validate(parts):
        return _render_indicator(request, unit, period, item, state, forms, status=400)
    if not parts:
        messages.info(request, _("Inget att spara: inget är ändrat."))
        return _back_to_indicator(unit, period, indicator)
    values = {
        name[6:]: _value_input(forms.parts[name].cleaned_data)
        for name in parts
        if name.startswith("value:")
    }
    override = forms.override.cleaned_data if "override" in parts else {}
    try:
        indicator_editing.report_indicator(
            user=request.user,
            source=Source.FORM,
            indicator=item.indicator,
            org_unit=unit,
            period=period,
            values=values,
            analysis=forms.analysis.cleaned_data["analysis"] if "analysis" in parts else None,
            override_status=override.get("status"),
            override_comment=override.get("comment"),
        )
    except indicator_editing.ValuesBusy as busy:
        messages.error(request, str(busy))
        return _render_indicator(request, unit, period, item, state, forms, status=409)
    messages.success(request, _saved(forms, parts))
    left = [name for name in edited if name not in parts]
    if not left:
        return _back_to_indicator(unit, period, indicator)
    # Typed but not saved: the page again, with what was typed, saying what is not saved.
    messages.warning(
        request,
        _("Inte sparat ännu: %(parts)s. Spara det, eller lämna sidan för att släppa det.")
        % {"parts": ", ".join(forms.title(p) for p in left)},
    )
    state = indicator_state(item, unit, period)
    return _render_indicator(request, unit, period, item, state, forms)


def _value_input(cleaned: dict) -> ValueInput:
    """One breakdown's value as a MeasurementForm cleaned it."""
    return ValueInput(
        value=cleaned["value"],
        numerator=cleaned.get("numerator"),
        denominator=cleaned.get("denominator"),
        comment=cleaned["comment"],
    )


@require_POST
@closed_period_is_403
def set_value(request: HttpRequest, org_unit: str, period: str, indicator: str, breakdown: str):
    unit, period = _for_writing(request, org_unit, period)
    item = indicator_on_scorecard(unit, period, indicator)
    if breakdown not in item.breakdowns:
        raise Http404("no such breakdown")
    form = MeasurementForm(request.POST, indicator=item, breakdown=breakdown, prefix=breakdown)
    if not form.is_valid():
        return _indicator_page(request, unit, period, indicator, part=f"value:{breakdown}")
    try:
        indicator_editing.report_indicator(
            user=request.user,
            source=Source.FORM,
            indicator=item.indicator,
            org_unit=unit,
            period=period,
            values={breakdown: _value_input(form.cleaned_data)},
        )
    except indicator_editing.ValuesBusy as busy:
        messages.error(request, str(busy))
    else:
        messages.success(request, _("Utfallet är sparat."))
    return _back_to_indicator(unit, period, indicator)


@require_POST
@closed_period_is_403
def set_analysis(request: HttpRequest, org_unit: str, period: str, indicator: str):
    unit, period = _for_writing(request, org_unit, period)
    item = indicator_on_scorecard(unit, period, indicator)
    form = AnalysisForm(request.POST)
    if not form.is_valid():
        return _indicator_page(request, unit, period, indicator, part="analysis")
    try:
        indicator_editing.annotate_indicator(
            user=request.user,
            source=Source.FORM,
            indicator=item.indicator,
            org_unit=unit,
            period=period,
            analysis=form.cleaned_data["analysis"],
        )
    except indicator_editing.ValuesBusy as busy:
        messages.error(request, str(busy))
    else:
        messages.success(request, _("Analysen är sparad."))
    return _back_to_indicator(unit, period, indicator)


@require_POST
@closed_period_is_403
def override_status(request: HttpRequest, org_unit: str, period: str, indicator: str):
    unit, period = _for_writing(request, org_unit, period)
    item = indicator_on_scorecard(unit, period, indicator)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return _indicator_page(request, unit, period, indicator, part="override")
    try:
        indicator_editing.annotate_indicator(
            user=request.user,
            source=Source.FORM,
            indicator=item.indicator,
            org_unit=unit,
            period=period,
            override_status=form.cleaned_data["status"],
            override_comment=form.cleaned_data["comment"],
        )
    except indicator_editing.ValuesBusy as busy:
        messages.error(request, str(busy))
    else:
        messages.success(request, _("Bedömningen är sparad."))
    return _back_to_indicator(unit, period, indicator)


# ----------------------------------------------------------------------------- cell comment


@require_http_methods(["GET", "POST"])
@closed_period_is_403
def cell_comment(request: HttpRequest, org_unit: str, period: str, indicator: str, breakdown: str):
    """The comment on one cell (the indicator's value of one breakdown). Without one, the
    form starts from the previous period's published comment as an unsaved draft; the
    buttons save it as a draft, publish it or remove it (indicators.comments)."""
    unit, period = _for_writing(request, org_unit, period)
    item = indicator_on_scorecard(unit, period, indicator)
    if breakdown not in item.breakdowns:
        raise Http404("no such breakdown")
    draft = comment_for_editing(item.indicator, unit, period, breakdown)
    if request.method == "GET":
        form = CellCommentForm(initial={"text": draft.text})
    else:
        action = request.POST.get("save", "publish")
        form = CellCommentForm(request.POST, deleting=action == "delete")
        if form.is_valid():
            try:
                saved = cell_comments.save_comment(
                    user=request.user,
                    source=Source.FORM,
                    remote_addr=request.META.get("REMOTE_ADDR"),
                    indicator=item.indicator,
                    org_unit=unit,
                    period=period,
                    breakdown=breakdown,
                    text="" if action == "delete" else form.cleaned_data["text"],
                    state=CommentState.DRAFT if action == "draft" else CommentState.PUBLISHED,
                )
            except ValidationError as refused:  # a rule of the write path, said on the form
                form.add_error(None, refused.messages)
            else:
                if saved is None:
                    messages.success(request, _("Kommentaren är borttagen."))
                elif saved.published:
                    messages.success(request, _("Kommentaren är publicerad."))
                else:
                    messages.success(request, _("Kommentaren är sparad som utkast."))
                return _back_to_indicator(unit, period, indicator)
    return render(
        request,
        "reporting/comment.html",
        {
            "org_unit": unit,
            "period": period,
            "indicator": item,
            "breakdown": breakdown,
            "draft": draft,
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )


# ----------------------------------------------------------------------------- perspective


@require_http_methods(["GET", "POST"])
@closed_period_is_403
def perspective_assessment(request: HttpRequest, org_unit: str, period: str, perspective: str):
    unit, period = _for_writing(request, org_unit, period)
    item = get_object_or_404(Perspective, code=perspective)
    current = PerspectiveAssessment.objects.filter(
        org_unit=unit, perspective=item, period=period
    ).first()
    computed = perspective_grid([unit], period, [item]).rows[0].cells[0].computed
    if request.method == "POST":
        form = PerspectiveAssessmentForm(request.POST, computed=computed)
        if form.is_valid():
            scorecard_editing.set_perspective_assessment(
                user=request.user,
                source=Source.FORM,
                org_unit=unit,
                perspective=item,
                period=period,
                status=form.cleaned_data["status"],
                text=form.cleaned_data["text"],
                justification=form.cleaned_data["justification"],
            )
            messages.success(request, _("Den samlade bedömningen är sparad."))
            return redirect(_report_url(unit, period))
    else:
        form = PerspectiveAssessmentForm(
            initial={
                "status": current.status,
                "text": current.text,
                "justification": current.justification,
            }
            if current
            else None,
            computed=computed,
        )
    return render(
        request,
        "reporting/perspective.html",
        {
            "org_unit": unit,
            "period": period,
            "perspective": item,
            "form": form,
            "computed": computed,
        },
        status=400 if form.is_bound else 200,
    )


# ----------------------------------------------------------------------------- actions


@require_http_methods(["GET", "POST"])
@closed_period_is_403
def action_form(request: HttpRequest, org_unit: str, period: str, pk: int | None = None):
    """An action of the period's plan: a new one belongs to the period in the address; a
    closed period's plan is frozen (403). `?indicator=<code>` preselects the indicator the
    new action addresses (the completeness board links so)."""
    unit, period = _for_writing(request, org_unit, period)
    action = get_object_or_404(Action, pk=pk, org_unit=unit) if pk is not None else None
    if action is not None and action.period:
        closing.ensure_open(unit, action.period)
    scorecard = scorecard_for(unit, Period.parse(period).year)
    if request.method == "POST":
        form = ActionForm(request.POST, instance=action, scorecard=scorecard)
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in ActionForm.Meta.fields}
            fields["indicators"] = list(form.cleaned_data["indicators"])
            if action is None:
                scorecard_editing.create_action(
                    user=request.user, source=Source.FORM, org_unit=unit, period=period, **fields
                )
            else:
                scorecard_editing.update_action(
                    user=request.user, source=Source.FORM, action=action, **fields
                )
            messages.success(request, _("Åtgärden är sparad."))
            return redirect(_report_url(unit, period) + "#atgarder")
    else:
        initial: dict = {}
        if action is None and request.GET.get("perspective"):
            initial["perspective"] = Perspective.objects.filter(
                code=request.GET["perspective"][:64]
            ).first()
        if action is None and request.GET.get("indicator"):
            initial["indicators"] = Indicator.objects.filter(code=request.GET["indicator"][:64])
            placed = placement_for(unit, Period.parse(period).year, request.GET["indicator"][:64])
            if placed is not None and "perspective" not in initial:
                initial["perspective"] = placed.success_factor.strategic_goal.perspective
                initial["success_factor"] = placed.success_factor
        form = ActionForm(instance=action, initial=initial, scorecard=scorecard)
    return render(
        request,
        "reporting/action.html",
        {"org_unit": unit, "period": period, "action": action, "form": form},
        status=400 if form.is_bound else 200,
    )


# ----------------------------------------------------------------------------- close


@require_POST
def close_period(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    ensure_administrator(request.user)
    unit = org_unit_for_reading(request.user, org_unit)
    period = _period(period)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reason", [])))
        return redirect(_report_url(unit, period))
    try:
        freezing.close_report(
            actor=Actor.from_request(request),
            org_unit=unit,
            period=period,
            reason=form.cleaned_data["reason"],
        )
    except closing.AlreadyClosed:
        messages.info(request, _("Perioden var redan stängd."))
    else:
        messages.success(
            request,
            _("Perioden %(period)s är stängd för %(unit)s.") % {"period": period, "unit": unit},
        )
    return redirect(_report_url(unit, period))


@require_POST
def reopen_period(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    ensure_administrator(request.user)
    unit = org_unit_for_reading(request.user, org_unit)
    period = _period(period)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reason", [])))
        return redirect(_report_url(unit, period))
    try:
        freezing.reopen_report(
            actor=Actor.from_request(request),
            org_unit=unit,
            period=period,
            reason=form.cleaned_data["reason"],
        )
    except closing.NotClosed:
        messages.info(request, _("Perioden var inte stängd för den här enheten."))
    else:
        messages.success(
            request,
            _("Perioden %(period)s är öppnad igen för %(unit)s.")
            % {"period": period, "unit": unit},
        )
    return redirect(_report_url(unit, period))


def _report_url(unit: OrgUnit, period: str) -> str:
    return reverse("reporting:report", kwargs={"org_unit": unit.code, "period": period})
