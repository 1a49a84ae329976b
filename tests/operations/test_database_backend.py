"""The PostgreSQL backend reads timestamps as Django's own loader does, only faster."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import get_adapters_template
from psycopg.pq import Format

from config.postgresql.base import TIMESTAMPTZ_OID, IsoTimestamptzLoader

pytestmark = pytest.mark.django_db

# As PostgreSQL prints timestamptz in ISO DateStyle, whatever the session's time zone.
TEXTS = [
    "2026-12-03 17:23:05.123456+00",
    "2026-12-03 17:23:05+00",
    "2026-12-03 17:23:05.1+01",
    "2026-06-30 23:59:59.999999-09:30",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "1970-01-01 00:00:00+05:53:28",
]


def _django_loader():
    """Django's loader for this connection, as its backend registers it."""
    return get_adapters_template(True, UTC).get_loader(TIMESTAMPTZ_OID, Format.TEXT)


def test_the_connection_reads_timestamptz_with_the_iso_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert issubclass(loader, IsoTimestamptzLoader)
    # Django gives each cursor its own loader when this differs from the connection's zone.
    assert loader.timezone == connection.timezone == UTC


@pytest.mark.parametrize("text", TEXTS)
def test_values_equal_djangos_reading(text):
    ours = connection.connection  # opened by the fixture's transaction
    fast = ours.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)(TIMESTAMPTZ_OID, ours)
    django = _django_loader()(TIMESTAMPTZ_OID, ours)
    got, expected = fast.load(text.encode()), django.load(text.encode())
    assert got == expected and got.tzinfo is UTC and expected.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "text",
    [
        "infinity",
        "-infinity",
        "0044-03-15 12:00:00+00 BC",
        "0001-01-01 00:30:00+01",  # before year 1 in UTC
        "10000-01-01 00:00:00+00",
    ],
)
def test_what_iso_cannot_read_goes_to_djangos_loader(text):
    ours = connection.connection
    fast = ours.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)(TIMESTAMPTZ_OID, ours)
    django = _django_loader()(TIMESTAMPTZ_OID, ours)
    try:
        expected = django.load(text.encode())
    except Exception as error:  # whatever Django raises, ours raises too
        with pytest.raises(type(error)):
            fast.load(text.encode())
    else:
        assert fast.load(text.encode()) == expected


def test_timestamps_round_trip_through_the_database():
    """What the app writes comes back equal, read by PostgreSQL's own output."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'Europe/Stockholm'")
        written = datetime(2026, 3, 29, 1, 30, 0, 250000, tzinfo=UTC)  # the night of DST
        cursor.execute("SELECT %s::timestamptz, now()", [written])
        back, now = cursor.fetchone()
    assert back == written and back.tzinfo is UTC and now.tzinfo is UTC
