from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from dashboard import charts, exports, page_cache
from dashboard.documents import pdf, word
from dashboard.documents.content import document_title, tertial_document
from dashboard.presentation import PERIOD_KIND_SLUGS, has_national
from dashboard.selectors.final import report_page, shown_report
from dashboard.selectors.indicator import indicator_for, indicator_page
from dashboard.selectors.over_time import fulfilment_over_time
from dashboard.selectors.overview import landing_org_unit, overview_periods, region_overview
from divisions.access import can_write
from divisions.models import OrgUnit
from divisions.selectors import get_org_unit
from domain.periods import InvalidPeriod, Period, PeriodKind
from indicators.models import Placement
from indicators.selectors import periods_with_data

KINDS_BY_SLUG = {slug: kind for kind, slug in PERIOD_KIND_SLUGS.items()}


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """No icon, said without an error: pages name `data:,` as theirs, but the admin's pages
    and files opened on their own make the browser ask here, and a 404 is a console error."""
    response = HttpResponse(status=204)
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --------------------------------------------------------------------------- fetch or refuse


def _org_unit(code: str) -> OrgUnit:
    """The org unit for an address, or 404. Every signed-in user may read every unit
    (divisions.access); writing is checked where writing happens."""
    unit = get_org_unit(code)
    if unit is None:
        raise Http404("no such org unit")
    return unit


def _period(text: str) -> str:
    try:
        return Period.parse(text).code
    except InvalidPeriod as exc:
        raise Http404(str(exc)) from None


def _indicator(code: str, unit: OrgUnit, period: str) -> Placement:
    indicator = indicator_for(code, unit, period)
    if indicator is None:
        raise Http404("no such indicator on this org unit's scorecard")
    return indicator


def _page(
    request: HttpRequest, key: tuple, content: Callable[[], dict[str, str]], *, nav: str = ""
) -> HttpResponse:
    """A dashboard page: its content (title and HTML, the same for every reader) from the
    page cache, rendered by `content` when the data has changed since it was last rendered."""
    rendered = page_cache.cached(key, content)
    return render(
        request,
        "dashboard/page.html",
        {"title": rendered["title"], "content": mark_safe(rendered["html"]), "nav": nav},
    )


# --------------------------------------------------------------------------- pages


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Division managers and reporters land on their unit; everyone else on the overview."""
    unit = landing_org_unit(request.user)
    if unit is None:
        periods = overview_periods()
        if not periods:
            return render(request, "dashboard/empty.html")
        return redirect("dashboard:overview", period=periods[0])
    periods = periods_with_data(unit)
    if not periods:
        return render(request, "dashboard/empty.html", {"org_unit": unit})
    return redirect("dashboard:division", org_unit=unit.code, period=periods[0])


@require_GET
def overview_latest(request: HttpRequest) -> HttpResponse:
    periods = overview_periods()
    if not periods:
        return render(request, "dashboard/empty.html")
    return redirect("dashboard:overview", period=periods[0])


@require_GET
def overview(request: HttpRequest, period: str) -> HttpResponse:
    period_code = _period(period)
    if period_code != period:
        return redirect("dashboard:overview", period=period_code)

    def content() -> dict[str, str]:
        data = region_overview(period_code)
        totals = [(p.name, counts) for p, counts in data.grid.totals]
        context = {
            "overview": data,
            "period": period_code,
            "totals": totals,
            "totals_chart": charts.perspective_counts_chart(totals),
            "document_title": document_title(period_code),
        }
        return {
            "title": f"{gettext('Regionöversikt')} {period_code}",
            "html": render_to_string("dashboard/overview_content.html", context),
        }

    return _page(request, ("overview", period_code), content, nav="overview")


@require_GET
def division_scorecard(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    unit = _org_unit(org_unit)
    period_code = _period(period)
    if period_code != period:
        return redirect("dashboard:division", org_unit=unit.code, period=period_code)
    can_report = can_write(request.user, unit)

    def content() -> dict[str, str]:
        report = shown_report(unit, period_code)
        page = report.page
        counts = [(s.perspective.name, s.cell.counts) for s in page.sections]
        context = {
            "page": page,
            "org_unit": page.org_unit,  # as the report names it (frozen: as it was closed)
            "period": period_code,
            "counts": counts,
            "can_report": can_report,
            "closure": report.closure,
            "counts_chart": charts.perspective_counts_chart(counts),
            # A "Riket" column only where some line has the country's value (Kolada).
            "national_column": has_national(page.lines),
            # The two PDFs say what they are: the table report and the document.
            "document_title": document_title(period_code),
        }
        return {
            "title": f"{page.org_unit.name} {period_code}",
            "html": render_to_string("dashboard/division_content.html", context),
        }

    # The links to report differ by who asks; the rest is the same for every reader.
    return _page(request, ("division", unit.code, period_code, can_report), content)


@require_GET
def division_print(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    unit = _org_unit(org_unit)
    period_code = _period(period)
    if period_code != period:
        return redirect("dashboard:print", org_unit=unit.code, period=period_code)
    page = report_page(unit, period_code)
    return render(
        request,
        "dashboard/print.html",
        {
            "page": page,
            "org_unit": page.org_unit,
            "period": period_code,
            "national_column": has_national(page.lines),
        },
    )


@require_GET
def division_pdf(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    unit = _org_unit(org_unit)
    page = report_page(unit, _period(period))
    response = HttpResponse(exports.report_pdf(page), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(page, "pdf")}"'
    return response


@require_GET
def division_xlsx(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    unit = _org_unit(org_unit)
    page = report_page(unit, _period(period))
    response = HttpResponse(exports.scorecard_xlsx(page), content_type=exports.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(page, "xlsx")}"'
    return response


@require_GET
def division_docx(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    document = tertial_document(report_page(_org_unit(org_unit), _period(period)))
    response = HttpResponse(word.report_docx(document), content_type=word.DOCX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{document.filename("docx")}"'
    return response


@require_GET
def division_document_pdf(request: HttpRequest, org_unit: str, period: str) -> HttpResponse:
    document = tertial_document(report_page(_org_unit(org_unit), _period(period)))
    response = HttpResponse(pdf.report_tagged_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename("pdf")}"'
    return response


@require_GET
def indicator_detail(request: HttpRequest, code: str, org_unit: str, period: str) -> HttpResponse:
    unit = _org_unit(org_unit)
    period_code = _period(period)
    indicator = _indicator(code, unit, period_code)
    if period_code != period:
        return redirect(
            "dashboard:indicator", code=indicator.code, org_unit=unit.code, period=period_code
        )

    def content() -> dict[str, str]:
        page = indicator_page(indicator, unit, period_code)
        context = {
            "page": page,
            "org_unit": unit,
            "period": period_code,
            "series_chart": charts.indicator_series_chart(page) if page.history else None,
            "comparison_chart": charts.comparison_chart(page)
            if any(row.value is not None for row in page.comparison)
            else None,
            "national_chart": charts.national_chart(page.national, page.indicator.unit)
            if page.national
            else None,
        }
        return {
            "title": f"{page.indicator.name} – {unit.name} {period_code}",
            "html": render_to_string("dashboard/indicator_content.html", context),
        }

    return _page(request, ("indicator", indicator.code, unit.code, period_code), content)


@require_GET
def over_time_region(request: HttpRequest) -> HttpResponse:
    region = OrgUnit.objects.filter(kind="region").order_by("path").first()
    if region is None:
        return render(request, "dashboard/empty.html")
    return redirect("dashboard:over_time", org_unit=region.code, kind="tertial")


@require_GET
def over_time(request: HttpRequest, org_unit: str, kind: str) -> HttpResponse:
    unit = _org_unit(org_unit)
    if kind not in KINDS_BY_SLUG:
        raise Http404("no such follow-up kind")
    data = fulfilment_over_time(unit, KINDS_BY_SLUG[kind])
    return render(
        request,
        "dashboard/over_time.html",
        {
            "data": data,
            "org_unit": unit,
            "kind": kind,
            "figures": [(s, charts.over_time_chart(s)) for s in data.series],
            "kind_choices": [(PERIOD_KIND_SLUGS[k], k) for k in PeriodKind],
        },
    )


@require_GET
def choose(request: HttpRequest) -> HttpResponse:
    """The selector forms post here by GET; turn their fields into the canonical URL."""
    unit = _org_unit(request.GET.get("org_unit", ""))
    period = request.GET.get("period", "")
    try:
        period = Period.parse(period).code
    except InvalidPeriod:
        periods = periods_with_data(unit)
        if not periods:
            return render(request, "dashboard/empty.html", {"org_unit": unit})
        period = periods[0]
    indicator = request.GET.get("indicator", "")
    if indicator:
        return redirect(
            "dashboard:indicator",
            code=_indicator(indicator, unit, period).code,
            org_unit=unit.code,
            period=period,
        )
    return redirect("dashboard:division", org_unit=unit.code, period=period)


@require_GET
def choose_overview(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard:overview", period=_period(request.GET.get("period", "")))
