"""Pagination: a client chooses the page size up to a limit; large tables page by cursor."""

from rest_framework.pagination import CursorPagination, PageNumberPagination

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class StandardPagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class IdCursorPagination(CursorPagination):
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
