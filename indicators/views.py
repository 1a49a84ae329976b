"""Pages of the import pipeline: upload, history, one import (preview, progress, errors)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from divisions.access import can_write_anywhere

from .forms import ImportAgainForm, ImportUploadForm
from .imports.access import may_decide, may_download, may_import_again
from .imports.queue import (
    ImportQueueUnavailable,
    ImportRefused,
    apply_import,
    discard_import,
    import_again,
    submit_import,
)
from .messages import say_stored
from .models import Import, ImportSource, ImportStatus


def _import_for(request: HttpRequest, pk: int) -> Import:
    """One import, for any signed-in user (everyone reads; see divisions.access)."""
    return get_object_or_404(
        Import.objects.select_related("user", "duplicate_of", "reimport_of", "org_unit"), pk=pk
    )


def _queue_down_message() -> str:
    return _(
        "Filen togs emot och är sparad, men importkön svarar inte just nu. Den bearbetas "
        "automatiskt när kön svarar igen, inom några minuter; skicka den inte igen."
    )


@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    may_upload = can_write_anywhere(request.user)
    form = ImportUploadForm()
    status = 200
    if request.method == "POST":
        if not may_upload:
            raise PermissionDenied("no org unit this user may write")
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                record = submit_import(
                    fileobj=upload,
                    filename=upload.name,
                    user=request.user,
                    source=ImportSource.UPLOAD,
                    preview=form.cleaned_data["preview"],
                )
            except ImportQueueUnavailable:
                messages.error(request, _queue_down_message())
                status = 503
            else:
                return redirect("indicators:import", pk=record.pk)
        else:
            status = 400
    # The error lists and preview samples are for the page of one import, not the history.
    history = Import.objects.select_related("user").defer("errors", "preview_rows")
    page = Paginator(history, 50).get_page(request.GET.get("sida"))
    return render(
        request,
        "indicators/import_list.html",
        {"form": form, "may_upload": may_upload, "page": page, "nav": "imports"},
        status=status,
    )


def _detail(
    request: HttpRequest, record: Import, *, again_form: ImportAgainForm | None = None, status=200
) -> HttpResponse:
    user = request.user
    may_again = not record.is_active and may_import_again(user, record)
    return render(
        request,
        "indicators/import_detail.html",
        {
            "record": record,
            # Each stored row error in the reader's language (indicators.messages).
            "errors": [{**error, "text": say_stored(error)} for error in record.errors],
            "may_decide": record.status == ImportStatus.PREVIEWED and may_decide(user, record),
            "may_download": bool(record.file) and may_download(user, record),
            "again_form": (again_form or ImportAgainForm()) if may_again else None,
            "nav": "imports",
        },
        status=status,
    )


@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _import_for(request, pk))


@require_GET
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """What the page's progress bar polls (the API serves the same for scripts)."""
    record = _import_for(request, pk)
    return JsonResponse(
        {
            "status": record.status,
            "status_display": record.get_status_display(),
            "phase": record.phase,
            "phase_display": record.get_phase_display() if record.phase else "",
            "rows_done": record.rows_done,
            "rows_total": record.rows_total,
            "progress": record.progress,
            "active": record.is_active,
        }
    )


@require_POST
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    record = _import_for(request, pk)
    try:
        apply_import(record=record, user=request.user)
    except ImportQueueUnavailable:
        messages.error(request, _queue_down_message())
    except ImportRefused as refused:
        messages.error(request, str(refused))
    return redirect("indicators:import", pk=record.pk)


@require_POST
def import_discard(request: HttpRequest, pk: int) -> HttpResponse:
    record = _import_for(request, pk)
    discard_import(record=record, user=request.user)
    messages.success(request, _("Importen förkastades; inget skrevs."))
    return redirect("indicators:import", pk=record.pk)


@require_POST
def import_again_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Import the file of an earlier import again, on purpose and saying why."""
    record = _import_for(request, pk)
    if record.is_active or not may_import_again(request.user, record):
        raise PermissionDenied(f"{request.user} may not import the file of #{pk} again")
    form = ImportAgainForm(request.POST)
    if not form.is_valid():
        return _detail(request, record, again_form=form, status=400)
    try:
        again = import_again(
            record=record,
            user=request.user,
            reason=form.cleaned_data["reason"],
            preview=form.cleaned_data["preview"],
            source=ImportSource.UPLOAD,
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
    except ImportQueueUnavailable as down:
        messages.error(request, _queue_down_message())
        return redirect("indicators:import", pk=down.record.pk)
    except ImportRefused as refused:
        messages.error(request, str(refused))
        return redirect("indicators:import", pk=record.pk)
    return redirect("indicators:import", pk=again.pk)


@require_GET
def import_file(request: HttpRequest, pk: int) -> FileResponse:
    """The file as it was received: the evidence behind every value it brought in, for
    those who may download it (indicators.imports.access)."""
    record = _import_for(request, pk)
    if not record.file:
        raise Http404("no stored file")
    if not may_download(request.user, record):
        raise PermissionDenied(f"{request.user} may not download the file of import #{pk}")
    try:
        handle = record.file.open("rb")
    except FileNotFoundError:
        raise Http404("stored file missing") from None
    return FileResponse(handle, as_attachment=True, filename=record.filename)
