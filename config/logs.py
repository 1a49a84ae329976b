"""Structured logs: one JSON object per line, each carrying the request id it belongs to.

The request id lives in a context variable: the request middleware (config/request_log.py)
sets it for a request, the Celery signals (config/celery.py) for a task, and a logging
filter copies it onto every record, whichever logger wrote it. A line of a worker's task
thus carries the id of the upload that queued it.

A small formatter of our own rather than python-json-logger: it writes only the standard
fields and what a caller passes explicitly as `extra={"fields": {...}}`, never every
attribute someone attached to a record, so personal data cannot slip in by accident.
Nothing here touches Django models: settings.LOGGING names these classes.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

# What we accept from a client or proxy as its request id: short, and nothing that could
# break a log line or a header (no spaces, quotes, control characters).
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str:
    """A caller's request id if it is sane, else a new one."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def current_request_id() -> str:
    return _request_id.get()


def bind_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (also for the text format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, and the
    record's explicit `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _request_id.get()
        if request_id:
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def logging_config(*, level: str, fmt: str) -> dict:
    """settings.LOGGING: everything to stderr (the container's log), as JSON or as text."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.logs.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "config.logs.JsonFormatter"},
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["request_id"],
                "formatter": "text" if fmt == "text" else "json",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # runserver's own access line repeats ours with the query string, which may
            # carry personal data: only its warnings pass.
            "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            # WeasyPrint (the tertial report's PDF) logs every layout step and every font
            # it subsets at INFO: only its warnings pass.
            "weasyprint": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            "fontTools": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }
