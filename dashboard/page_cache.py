"""The pages' rendered content, kept while the data under it has not changed.

A board member's scorecard or indicator page reads the same figures until something is
imported, edited, closed or defined again, so what a page shows is rendered once and served
from this process's memory (the `pages` cache) until then.

"Until then" is a number in the database, the data version. Every table of the apps a page
reads (org units, scorecards, indicators and their values, national figures, and users' names)
has a statement trigger that marks its transaction as one that changed data; when such a
transaction commits, the version goes up by one, in that very commit. A reader therefore never
sees new data under an old version, nor old data under a new one from a stale cache: an entry
rendered from a snapshot taken before a commit is filed under the version read before it. The
triggers see every write path, including COPY and raw SQL. The version row is locked only
between a writer's pre-commit and its commit, so writers do not queue behind one another
(a transaction that sets all constraints immediate files its change at once and holds the
lock to its end: imports set only their foreign keys immediate, indicators.bulk).

A request whose own transaction has changed data renders without the cache, and SQLite (the
demo) has no triggers: there every page is rendered each time.

The API's measurement pages read the version in their own statement (data_version_column)
and keep the codes and user names they name under it (api.values.serializers.with_codes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import BigIntegerField
from django.db.models.expressions import RawSQL
from django.utils.translation import get_language

from indicators.selectors import AsReturned

# The apps whose tables a page reads: a write to any of them gives the data a new version.
WATCHED_APPS = ("divisions", "scorecard", "indicators", "benchmarks")
# Users appear by name (who closed a period, who overrode a status); their sign-ins do not
# change a page.
USER_COLUMNS = ("username", "first_name", "last_name")

VERSION_TABLE = "styrkort_data_version"
CHANGE_TABLE = "styrkort_data_change"
TRIGGER = "styrkort_data_changed"

_INSTALL = f"""
CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
    id smallint PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO {VERSION_TABLE} (id, version) VALUES (1, 1) ON CONFLICT (id) DO NOTHING;
-- One row per open transaction that has changed data; gone again when it commits. Unlogged:
-- after a crash it starts empty, which is what it should hold then.
CREATE UNLOGGED TABLE IF NOT EXISTS {CHANGE_TABLE} (xid bigint PRIMARY KEY);

CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {CHANGE_TABLE} (xid) VALUES (txid_current()) ON CONFLICT (xid) DO NOTHING;
    RETURN NULL;
END $$;

-- Runs when the transaction commits (deferred): the new version is part of that commit.
CREATE OR REPLACE FUNCTION styrkort_data_committed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {VERSION_TABLE} SET version = version + 1 WHERE id = 1;
    DELETE FROM {CHANGE_TABLE} WHERE xid = NEW.xid;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS styrkort_data_committed ON {CHANGE_TABLE};
CREATE CONSTRAINT TRIGGER styrkort_data_committed AFTER INSERT ON {CHANGE_TABLE}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION styrkort_data_committed();
"""

# Dirty: this transaction has changed data, pending (its row in the change table) or already
# filed (it updated the version row itself, as under SET CONSTRAINTS ALL IMMEDIATE).
_DIRTY = (
    "xmin = xid(pg_current_xact_id_if_assigned())"
    f" OR EXISTS (SELECT 1 FROM {CHANGE_TABLE} WHERE xid = txid_current_if_assigned())"
)
_VERSION = f"SELECT version, {_DIRTY} FROM {VERSION_TABLE} WHERE id = 1"
# The same as one value, null where data_version gives None.
_VERSION_OR_NULL = (
    f"SELECT CASE WHEN {_DIRTY} THEN NULL ELSE version END FROM {VERSION_TABLE} WHERE id = 1"
)


def watched_tables() -> list[str]:
    """Every table of the watched apps, many-to-many tables included."""
    tables = {
        model._meta.db_table
        for label in WATCHED_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    return sorted(tables)


def install_triggers(using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Create the version table and a trigger on every watched table (idempotent; run after
    every `migrate`, so a new model's table is watched from its first migration)."""
    database = connections[using]
    if database.vendor != "postgresql":
        return
    user_table = apps.get_model("auth", "User")._meta.db_table
    with database.cursor() as cursor:
        cursor.execute(_INSTALL)
        existing = {
            row[0]
            for row in _fetch(cursor, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        for table in watched_tables():
            if table in existing:
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE "
                    f'OR TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()'
                )
        if user_table in existing:
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR DELETE OR TRUNCATE "
                f'OR UPDATE OF {", ".join(USER_COLUMNS)} ON "{user_table}" '
                f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
            )


def _fetch(cursor, sql: str) -> Iterable[tuple]:
    cursor.execute(sql)
    return cursor.fetchall()


def caching() -> bool:
    """Whether anything is kept per data version here: PostgreSQL, and not turned off."""
    return connection.vendor == "postgresql" and settings.STYRKORT_PAGE_CACHE


def data_version() -> int | None:
    """The committed data's version, or None where pages are not to be cached: SQLite, this
    transaction has changed data itself, or the triggers are not installed."""
    if not caching():
        return None
    with connection.cursor() as cursor:
        cursor.execute(_VERSION)
        row = cursor.fetchone()
    if row is None or row[1]:
        return None
    return row[0]


def data_version_column() -> AsReturned | None:
    """data_version as a column of the statement that reads the rows: from the snapshot the
    rows are read in, and no round trip of its own (a subquery: computed once, not per row).
    Null where data_version gives None; None on SQLite. Kept in the statement whatever
    STYRKORT_PAGE_CACHE says (a statement may be built once per process): readers of the
    column ask `caching()` first."""
    if connection.vendor != "postgresql":
        return None
    return AsReturned(RawSQL(_VERSION_OR_NULL, []), output_field=BigIntegerField())


def cached(key: Iterable[Any], render: Callable[[], dict[str, str]]) -> dict[str, str]:
    """What `render` returns for this key (page, org unit, period, whatever the content
    depends on besides the data and the language), rendered at most once per data version."""
    version = data_version()
    if version is None:
        return render()
    name = ":".join(str(part) for part in (*key, get_language(), version))
    store = caches["pages"]
    content = store.get(name)
    if content is None:
        content = render()
        store.set(name, content)
    return content
