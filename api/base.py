"""The base of every API view: authentication, permissions, formats and export limits.

Concrete viewsets stay three lines (queryset, serializer, filterset): what is common to the
whole API lives here, so every resource answers the same way.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status, viewsets
from rest_framework.fields import get_error_detail
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

from api.pagination import StandardPagination
from api.permissions import ReadAllWriteOwnSubtree
from api.renderers import (
    XLSX_MEDIA_TYPE,
    CSVRenderer,
    JSONRenderer,
    Table,
    XLSXRenderer,
    content_disposition,
    csv_chunks,
    write_table_xlsx,
)
from divisions.models import OrgUnit
from domain.periods import Period
from indicators.editing import ValuesBusy

TABULAR_FORMATS = ("csv", "xlsx")
LAYOUTS = ("long", "wide")


def export_too_large(limit: int) -> Response:
    """400 for an export over the limit, saying how to get the rows instead."""
    message = _(
        "Exporten skulle ge fler än %(limit)s rader (gränsen). Avgränsa med filter "
        "(t.ex. indicator, org_unit, period_from/period_to, updated_since) och hämta en "
        "del i taget, eller bläddra i JSON med ?page_size=1000 och länken 'next'."
    ) % {"limit": f"{limit:,}".replace(",", " ")}
    return Response(
        {"detail": message, "code": "export_too_large", "limit": limit},
        status=status.HTTP_400_BAD_REQUEST,
    )


@dataclass(frozen=True)
class WidePivot:
    """One row per `keys`, one column per period holding `value` (the report tables)."""

    keys: Sequence[str]
    value: str


def pivot(rows: Iterable[Mapping[str, object]], layout: WidePivot, name: str) -> Table:
    table: dict[tuple, dict[str, object]] = {}
    periods: set[str] = set()
    for row in rows:
        key = tuple(row[k] for k in layout.keys)
        period = str(row["period"])
        periods.add(period)
        line = table.setdefault(key, dict(zip(layout.keys, key, strict=True)))
        line[period] = row[layout.value]
    columns = [*layout.keys, *sorted(periods, key=Period.parse)]
    return Table(columns=columns, rows=list(table.values()), name=name)


def sorted_by_filters(queryset: QuerySet) -> QuerySet:
    """An export's rows in id order, found through the filters' indexes and then sorted.

    By the bare id the planner may walk the whole primary key in order instead, reading
    a third of 1.8 million assessments for one division's year (0.8 s, against 0.1 s
    sorted); an export sorts at most the export limit of rows. `sort_id` is id + 0, as in
    IdCursorPagination. Querysets in no order, or another, are left as they are.
    """
    if queryset.query.order_by == ("id",) and "sort_id" in queryset.query.annotations:
        return queryset.order_by("sort_id")
    return queryset


# Rows fetched from the database at a time by an export (a server-side cursor).
EXPORT_CHUNK_ROWS = 2000


def stream_csv(table: Table) -> StreamingHttpResponse:
    """A CSV export sent while it is read: StreamingHttpResponse over the table's chunks."""
    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in csv_chunks(table)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition(table, "csv")
    return response


def stream_xlsx(table: Table) -> FileResponse:
    """An XLSX export written to a temporary file as the rows are read, then sent from it:
    memory stays flat whatever the row count (the file is gone once sent or on error)."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it when sent)
    try:
        write_table_xlsx(table, spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    response = FileResponse(spool, content_type=XLSX_MEDIA_TYPE)
    response["Content-Disposition"] = content_disposition(table, "xlsx")
    return response


ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "An error, always JSON whatever format was asked for. `detail` says what went wrong; "
        "a 400 for a request body or query names each field it refuses "
        '(`{"field": ["reason"]}`, `non_field_errors` for the request as a whole); some '
        "errors add a machine-readable `code`."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
ERRORS = {
    400: "The request is invalid: a filter, a format, the body or a rule of the data.",
    401: "No credentials, or an invalid or revoked key.",
    403: "Signed in, but this role may not make this change here.",
    404: "No such object (or no such format).",
    409: "The values are being written by an import, or the request conflicts with the data; "
    "try again in a moment.",
    429: "Over the request budget of this user (or of their exports): wait Retry-After seconds.",
}
WRITE_ERRORS = (400, 401, 403, 404, 409, 429)


class StyrkortAutoSchema(AutoSchema):
    """Documents the format switch (and the wide layout where a resource has one), that
    POST is an upsert (201 created, 200 replaced), and the error answers of each operation
    (all JSON, one shape: ERROR_SCHEMA)."""

    def error_codes(self) -> tuple[int, ...]:
        if self.method in ("GET", "HEAD"):
            return (400, 401, 404, 429) if self._is_list_view() else (401, 404, 429)
        return WRITE_ERRORS

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        component = ResolvedComponent(
            name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA
        )
        self.registry.register_on_missing(component)
        for code in self.error_codes():
            # setdefault: an operation's own answer for a code (an import's 409) stays.
            responses.setdefault(
                str(code),
                {
                    "content": {"application/json": {"schema": component.ref}},
                    "description": ERRORS[code],
                },
            )
        if "429" in responses:
            responses["429"]["headers"] = {
                "Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds until the budget allows another request.",
                }
            }
        return responses

    def get_response_serializers(self):
        if self.method == "POST" and getattr(self.view, "upsert", False):
            serializer = self._get_serializer()
            return {200: serializer, 201: serializer}
        return super().get_response_serializers()

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "GET" and getattr(self.view, "action", None) == "list":
            parameters.append(
                OpenApiParameter(
                    "format",
                    OpenApiTypes.STR,
                    enum=["json", "csv", "xlsx"],
                    description=(
                        "Response format (or use the Accept header). csv and xlsx return every "
                        "matching row unpaginated, up to the export limit."
                    ),
                )
            )
            if getattr(self.view, "wide_layout", None) is not None:
                parameters.append(
                    OpenApiParameter(
                        "layout",
                        OpenApiTypes.STR,
                        enum=list(LAYOUTS),
                        description="wide: one column per period (csv and xlsx only).",
                    )
                )
        return parameters


class StrictJSONParser(JSONParser):
    """JSON whose strings the database can store: no lone surrogates, which are valid JSON
    escapes but not UTF-8 (refused here with 400 instead of failing at the database)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise exceptions.ParseError(_("JSON-texten innehåller ogiltiga tecken.")) from None
        return data


def api_exception_handler(exc, context):
    """DRF's answer, with a bare list of messages (a service's ValidationError without a
    field) put under `non_field_errors`: every error body is one JSON object."""
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response


class TableOrJsonNegotiation(DefaultContentNegotiation):
    """CSV and XLSX are for lists (and a value's history); asked of anything else (one
    object, a write), the answer is the JSON the schema documents, not a 404 or 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        asked = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        offered = {renderer.format for renderer in renderers}
        if asked in TABULAR_FORMATS and asked not in offered:
            return renderers[0], renderers[0].media_type
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            accept = request.META.get("HTTP_ACCEPT", "")
            if any(media in accept for media in (CSVRenderer.media_type, XLSX_MEDIA_TYPE)):
                return renderers[0], renderers[0].media_type
            raise


class ApiMixin:
    """What every Styrkort API view shares."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer, XLSXRenderer]
    content_negotiation_class = TableOrJsonNegotiation
    # The actions that answer as a table too (the others: JSON only, and so documented).
    tabular_actions = ("list", "history")
    parser_classes = [StrictJSONParser]
    permission_classes = [ReadAllWriteOwnSubtree]
    pagination_class = StandardPagination
    schema = StyrkortAutoSchema()
    # The file name of exports, and the wide layout (None: long only).
    export_name = "export"
    wide_layout: WidePivot | None = None

    def get_renderers(self):
        renderers = super().get_renderers()
        if getattr(self, "action", None) in self.tabular_actions:
            return renderers
        return [r for r in renderers if getattr(r, "format", None) not in TABULAR_FORMATS]

    @classmethod
    def as_view(cls, *args, **kwargs):
        # The site-wide LoginRequiredMiddleware redirects to the login page; API clients
        # get DRF's answer instead (401 with WWW-Authenticate).
        return login_not_required(super().as_view(*args, **kwargs))

    def get_object(self):
        # PostgreSQL refuses NUL in text: such a code cannot exist, so it is not found.
        if "\x00" in str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")):
            raise Http404("no such object")
        return super().get_object()

    # Code filters whose one code a page's own statement may resolve (CodeToCheck).
    checked_later_filters: tuple[str, ...] = ()

    def codes_checked_later(self) -> tuple[str, ...]:
        """`checked_later_filters` where this request is a page, which resolves the code
        itself (api.organisation.filters.CodeToCheck): a round trip fewer. An export looks
        its codes up first: it has no page to prove them."""
        if self.action != "list" or self.request.accepted_renderer.format in TABULAR_FORMATS:
            return ()
        return self.checked_later_filters

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        filterset = getattr(self, "filterset", None)
        # No row to prove the codes the page left unchecked: look them up now.
        unchecked = not page and getattr(filterset, "codes_checked_later", ())
        if unchecked and (errors := filterset.unknown_codes()):
            raise exceptions.ValidationError(errors)
        return page

    def filter_queryset(self, queryset):
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None and not any(
            name in filterset_class.base_filters for name in self.request.query_params
        ):
            return queryset  # nothing to filter: spare building the filter form
        return super().filter_queryset(queryset)

    def handle_exception(self, exc):
        if isinstance(exc, ValuesBusy):
            response = Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
            response["Retry-After"] = "10"
            return response
        if isinstance(exc, DjangoValidationError):
            # A service refusing a write (a rule in the model layer) is the client's error.
            exc = exceptions.ValidationError(detail=get_error_detail(exc))
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(response, "accepted_renderer", None)
        if response.status_code >= 400 and getattr(renderer, "format", None) in TABULAR_FORMATS:
            # An error is a message, not a table: always JSON.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response

    # --- lists and exports ------------------------------------------------------------

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        layout = request.query_params.get("layout", "long")
        tabular = request.accepted_renderer.format in TABULAR_FORMATS
        if layout not in LAYOUTS or (layout == "wide" and self.wide_layout is None):
            allowed = "long, wide" if self.wide_layout else "long"
            raise exceptions.ValidationError({"layout": [_("Tillåtna värden: %s") % allowed]})
        if layout == "wide" and not tabular:
            raise exceptions.ValidationError(
                {"layout": [_("Bred layout finns för format=csv och format=xlsx.")]}
            )
        if not tabular:
            page = self.paginate_queryset(queryset)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        limit = settings.STYRKORT_API_EXPORT_LIMIT
        # Which rows are counted up to the limit does not matter: no order, no sort of them.
        if queryset.order_by()[: limit + 1].count() > limit:
            return export_too_large(limit)
        table = self.export_table(sorted_by_filters(queryset))
        if layout == "wide":
            table = pivot(table.rows, self.wide_layout, name=f"{self.export_name}_wide")
        elif request.accepted_renderer.format == "csv":
            return stream_csv(table)
        elif request.accepted_renderer.format == "xlsx":
            return stream_xlsx(table)
        return Response(table)

    # Query parameters that select a small part of a large table (see IdCursorPagination).
    narrow_filters: tuple[str, ...] = ()
    # Of those, the ones with an index on (the field, id): one value of such a filter, alone,
    # reads the index in id order and stops after the page, faster than sorting the matches.
    id_ordered_filters: tuple[str, ...] = ()

    def filters_narrowly(self) -> bool:
        params = self.request.query_params
        present = {name for name in self.narrow_filters if params.get(name)}
        if not present:
            return False
        subtree = params.get("subtree", "").lower() in ("true", "1")
        if len(present) == 1 and present <= set(self.id_ordered_filters):
            (name,) = present
            # One code; for an org unit, that unit alone (a subtree is many units).
            if "," not in params[name] and not (name == "org_unit" and subtree):
                return False
        if present != {"org_unit"} or not subtree:
            return True
        # A whole region's subtree is (nearly) everything: reading in id order is faster.
        codes = [code.strip() for code in params["org_unit"].split(",")]
        return not OrgUnit.objects.filter(code__in=codes, parent__isnull=True).exists()

    def export_table(self, queryset: QuerySet) -> Table:
        """Every row of the (bounded) queryset as a table; the serializer's fields as columns.

        The rows are read a chunk at a time while they are written out, so an export's memory
        does not grow with its row count.
        """
        serializer = self.get_serializer()
        columns = [name for name, field in serializer.fields.items() if not field.write_only]
        rows = (
            serializer.to_representation(item)
            for item in queryset.iterator(chunk_size=EXPORT_CHUNK_ROWS)
        )
        return Table(columns=columns, rows=rows, name=self.export_name)


class ReadOnlyViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    pass


class WritableViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """Reads, POST and PATCH (no PUT: a partial update is all a script needs).

    Writes go through services, never serializer.save(): a subclass names the service in
    `create_object` (an upsert: 201 when created, 200 when an existing row was replaced) and
    `update_object`. Services check divisions.access again and raise PermissionDenied (403).
    """

    http_method_names = ["get", "post", "patch", "head", "options"]
    upsert = False  # True: POST replaces the row with the same key (documented as 200)

    def create_object(self, data: dict) -> tuple[object, bool]:
        raise NotImplementedError

    def update_object(self, instance: object, data: dict) -> object:
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance, created = self.create_object(serializer.validated_data)
        status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(instance).data, status=status_code)

    def partial_update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        instance = self.update_object(instance, serializer.validated_data)
        return Response(self.get_serializer(instance).data)


class DeletableViewSet(WritableViewSet):
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def delete_object(self, instance: object) -> None:
        raise NotImplementedError

    def destroy(self, request, *args, **kwargs):
        self.delete_object(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
