"""The request id, one log line and the metrics of every request (first middleware).

The id comes from the caller's X-Request-ID when it is sane (a proxy in front may set one),
else it is made here; it goes back in the response's X-Request-ID and into every log line
written while the request runs, and config/celery.py carries it on to the tasks queued.

The log line has the method, the path without its query string (a query may carry a
search for a person), the status, the duration, the view's name and the user's id, never
the user name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.core.signals import request_finished
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.functional import LazyObject, empty

from config import metrics
from config.logs import accepted_request_id, bind_request_id

logger = logging.getLogger("styrkort.request")

# Probes and scrapes come every few seconds: their lines only at DEBUG.
QUIET_VIEWS = {"healthz", "metrics"}


class RequestObservationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accepted_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        bind_request_id(request_id)
        queries = _QueryCounter()
        started = time.perf_counter()
        status = 500  # an exception that escapes every handler ends as a server error
        try:
            with connection.execute_wrapper(queries):
                response = self.get_response(request)
            status = response.status_code
            response["X-Request-ID"] = request_id
            return response
        finally:
            duration = time.perf_counter() - started
            view = _view_name(request)
            metrics.observe_request(
                view=view,
                method=request.method or "",
                status=status,
                seconds=duration,
                queries=queries.count,
            )
            fields = {
                "event": "request",
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round(duration * 1000, 1),
                "view": view,
                "user_id": _user_id(request),
                "db_queries": queries.count,
            }
            level = logging.DEBUG if view in QUIET_VIEWS else logging.INFO
            message = f"{request.method} {request.path} {status}"
            logger.log(level, message, extra={"fields": fields})


@receiver(request_finished, dispatch_uid="styrkort-request-id-unbind")
def _unbind_request_id(**kwargs) -> None:
    # Not when the middleware returns: Django logs a 4xx/5xx response ("Not Found: ...")
    # after the middleware, and that line belongs to the request too. The response is
    # closed (request_finished) once it has been sent.
    bind_request_id("")


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _view_name(request: HttpRequest) -> str:
    # The URL pattern's name, not the path: a bounded set of labels for the metrics.
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match else "") or "unresolved"


def _user_id(request: HttpRequest) -> int | None:
    # Only a user already loaded: evaluating the lazy request.user here would cost a query.
    user = request.__dict__.get("user")
    if isinstance(user, LazyObject):
        user = user._wrapped if user._wrapped is not empty else None
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None
