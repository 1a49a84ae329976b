"""Pagination: a client chooses the page size up to a limit; large tables page by cursor."""

from django.db.models import BigIntegerField, F
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination

from indicators.selectors import AsReturned, sync_watermark, sync_watermark_column

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class StrictPageSize:
    """`page_size` outside 1..MAX_PAGE_SIZE is a 400, not silently another size: a client
    asking for 5000 rows and getting 100 would believe it had them all."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        text = request.query_params.get(self.page_size_query_param)
        if text is None or text == "":
            return self.page_size
        try:
            size = int(text)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            message = _("Ange ett heltal från 1 till %(max)s.") % {"max": self.max_page_size}
            raise ValidationError({self.page_size_query_param: [message]})
        return size


class StandardPagination(StrictPageSize, PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


def sort_id() -> AsReturned:
    """`sort_id`, which IdCursorPagination orders narrow requests by: the id, but not its
    index (id + 0), read as the database returns it."""
    return AsReturned(F("id") + 0, output_field=BigIntegerField())


class IdCursorPagination(StrictPageSize, CursorPagination):
    """For millions of rows: no COUNT, and pages stay stable while rows are added.

    `ORDER BY id LIMIT n` with a filter on another column lets PostgreSQL walk the primary
    key until it has found n matches, assuming they are spread evenly: seconds when they sit
    at the end of a 5-million-row table. When the view says the request filters narrowly,
    the page is ordered by `sort_id` (the view annotates it as `id + 0`): the same order, but
    the planner uses the filter's index and sorts only the matches.
    """

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = ("id",)

    def get_ordering(self, request, queryset, view):
        narrow = getattr(view, "filters_narrowly", None)
        return ("sort_id",) if narrow is not None and narrow() else ("id",)


class SyncCursorPagination(IdCursorPagination):
    """Cursor pages that also carry the sync watermark (docs/domain.md, "Synchronisation").

    On PostgreSQL every row of the page carries it, read by the page's own statement from
    the snapshot its rows come from (`watermark`: indicators.selectors.sync_watermark_column).
    Where no row carries it (SQLite, an empty page) it is read before the rows.
    """

    sync_watermark: int | None = None

    def paginate_queryset(self, queryset, request, view=None):
        if sync_watermark_column() is not None:
            page = super().paginate_queryset(queryset, request, view)
            if page:
                self.sync_watermark = page[0]["watermark"]
                return page
        # A watermark from after the rows could pass over a row committed in between.
        self.sync_watermark = sync_watermark()
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["sync_watermark"] = self.sync_watermark
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["sync_watermark"] = {
            "type": "integer",
            "format": "int64",
            "description": (
                "Keep the value of the first page and pass it as changed_since next time: "
                "every value written after this sync started has a marker at or above it."
            ),
        }
        return schema
