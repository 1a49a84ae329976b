"""Django's PostgreSQL backend, reading `timestamptz` values with the C parser of Python.

Django reads every `timestamptz` through its own subclass of psycopg's pure-Python loader
(so that it can label the result with the connection's time zone): about 10 µs a value.
An API page of 100 measurements spent a millisecond there, more than its query took in
PostgreSQL. `datetime.fromisoformat` reads PostgreSQL's ISO output in C; what it cannot
read (infinity, BC dates, years past 9999, a non-ISO DateStyle) goes to Django's loader,
which answers (or fails) exactly as before.

Selected in settings when DATABASE_URL names PostgreSQL; SQLite is untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.backends.postgresql import base
from psycopg.adapt import Loader
from psycopg.postgres import types
from psycopg.pq import Format

TIMESTAMPTZ_OID = types["timestamptz"].oid


class IsoTimestamptzLoader(Loader):
    """An aware datetime in UTC, as Django's loader gives with USE_TZ (its `timezone`
    attribute is what Django compares to decide whether a cursor needs another loader)."""

    timezone = UTC
    fallback: type[Loader]  # Django's loader of this connection

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._fallback = self.fallback(oid, context)

    def load(self, data):
        try:
            return datetime.fromisoformat(str(data, "ascii")).astimezone(UTC)
        except (ValueError, OverflowError):  # OverflowError: before year 1 in UTC
            return self._fallback.load(data)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        django_loader = connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        # Only where Django's loader labels values with UTC (USE_TZ): without USE_TZ it
        # returns naive local times, which stay Django's to read.
        if getattr(django_loader, "timezone", None) == UTC:
            loader = type(
                "IsoTimestamptzLoader", (IsoTimestamptzLoader,), {"fallback": django_loader}
            )
            connection.adapters.register_loader(TIMESTAMPTZ_OID, loader)
        return connection
