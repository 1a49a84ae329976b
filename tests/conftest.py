"""Fixtures shared by the whole suite: Division Nära's data, loaded once per session.

Nära's scorecard and its T2 2022 measurements (what `load_scorecard FILE` and
`import_measurements FILE` make of the demo fixtures) are loaded into the test database
once, when it is created. Each test then sees exactly the database it asked for:

- a test whose fixtures include `nara` (directly, or through `cast`, `clients`, ...) sees
  the session's Nära data, inside its own transaction that is rolled back afterwards;
- every other database test sees an empty database, as before: Nära's rows are truncated
  inside its transaction (TRUNCATE rolls back in PostgreSQL), so `demo`, `nara_scorecard`
  and tests that build their own rows start from nothing.

Transactional tests (`transaction=True`, `transactional_db`, `live_server`, the worker and
browser tests) commit, and pytest-django flushes every table after them; the session's
data is then loaded again before the next test (see `pytest_runtest_teardown`), so the
order of tests does not matter.
"""

import copy
import datetime
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from demo.nara import DATA_DIR as NARA
from indicators.definitions import LoadResult, load_scorecard, read_definition
from tests.cast import add_cast, add_other_division

TEST_DATA = Path(__file__).resolve().parent / "data"


def load_definition_file(path: Path, year: int | None = None) -> LoadResult:
    return load_scorecard(definition=read_definition(path.read_text(encoding="utf-8")), year=year)


def run(*args: str) -> str:
    """Run a management command and return what it printed."""
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


# ----------------------------------------------------------------- Nära, once per session


class Snapshot:
    """The rows of some tables, copied out once; `restore` puts exactly those rows back.

    COPY is much faster than loading Nära again (parsing YAML and CSV, assessing, auditing):
    the demo costs about 3 s to load, its restore a few tens of ms. Sequences are moved past
    the restored ids so that a test's own rows get fresh ones.
    """

    def __init__(self, tables: list[str]):
        from django.db import connection

        self.tables = tables
        self.rows: dict[str, bytes] = {}
        self.content_types = _content_types()
        with connection.cursor() as cursor:
            for table in tables:
                with cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                    self.rows[table] = b"".join(bytes(block) for block in copy)

    def restore(self, empty: list[str]) -> None:
        """Empty `empty` (and what refers to them), then put the snapshot's rows back."""
        from django.apps import apps
        from django.core.management.color import no_style
        from django.db import connection, transaction

        models = [
            m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in self.rows
        ]
        moved = self._moved_content_types()
        with transaction.atomic(), connection.cursor() as cursor:  # FKs are checked at commit
            tables = ", ".join(f'"{t}"' for t in sorted({*empty, *self.tables}))
            cursor.execute(f"TRUNCATE {tables} CASCADE")
            by_table = {m._meta.db_table: m for m in models}
            for table, rows in self.rows.items():
                if not rows:
                    continue
                model = by_table.get(table)
                columns = _content_type_columns(model) if moved and model else []
                if not columns:
                    with cursor.copy(f'COPY "{table}" FROM STDIN') as copy:
                        copy.write(rows)
                    continue
                # The audit trail refuses UPDATE: its rows name the new ids on their way in.
                cursor.execute(f'CREATE TEMP TABLE "_restore" (LIKE "{table}") ON COMMIT DROP')
                with cursor.copy('COPY "_restore" FROM STDIN') as copy:
                    copy.write(rows)
                cases = " ".join(f"WHEN {old} THEN {new}" for old, new in moved.items())
                for column in columns:
                    cursor.execute(
                        f'UPDATE "_restore" SET "{column}" = CASE "{column}" {cases}'
                        f' ELSE "{column}" END'
                    )
                cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "_restore"')
                cursor.execute('DROP TABLE "_restore"')
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)

    def _moved_content_types(self) -> dict[int, int]:
        """A flush (after a transactional test) makes the content types again under new ids;
        the rows that name one (the audit trail's) follow it by app and model: old -> new."""
        now = {key: pk for pk, key in _content_types().items()}
        return {
            old: now[key]
            for old, key in self.content_types.items()
            if key in now and now[key] != old
        }


def _content_type_columns(model) -> list[str]:
    from django.contrib.contenttypes.models import ContentType

    return [
        field.column
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is ContentType
    ]


def _content_types() -> dict[int, tuple[str, str]]:
    from django.contrib.contenttypes.models import ContentType

    rows = ContentType.objects.values_list("pk", "app_label", "model")
    return {pk: (app_label, model) for pk, app_label, model in rows}


class _Session:
    blocker = None  # pytest-django's django_db_blocker, once the test database exists
    scorecard: LoadResult | None = None  # what loading Nära's definition reported
    tables: list[str] = []  # the tables the load wrote to (truncated for other tests)
    nara: Snapshot | None = None  # the session's Nära, to restore after a flush
    demo: Snapshot | None = None  # what `load_demo` makes of an empty database
    visible = False  # does the running test see Nära's data?
    delete_order: list[str] | None = None  # the tables, children first (None: TRUNCATE)


def _row_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        # The models' tables only: a session's temporary staging tables (indicators.bulk)
        # vanish with its connection, and a restore must not name them.
        models = set(connection.introspection.django_table_names(include_views=False))
        names = [n for n in connection.introspection.table_names(cursor) if n in models]
        counts = {}
        for name in names:
            cursor.execute(f'SELECT count(*) FROM "{name}"')
            counts[name] = cursor.fetchone()[0]
    return counts


def _load_nara() -> LoadResult:
    """Nära as the `nara` fixture always built it: the definition, then the measurements."""
    result = load_definition_file(NARA / "scorecard.yaml")
    run("import_measurements", str(NARA / "measurements.csv"))
    return result


# Append-only by a trigger that refuses DELETE: emptied with TRUNCATE, which it allows.
_TRUNCATED = {"audit_auditentry"}


def _children_first(tables: list[str]) -> list[str]:
    """The tables ordered so that a table comes before every table it refers to."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid <> confrelid"
        )
        refers = [(a.strip('"'), b.strip('"')) for a, b in cursor.fetchall()]
    ordered, left = [], set(tables)
    while left:
        # A table no remaining table refers to can go now.
        free = sorted(t for t in left if not any(b == t and a in left for a, b in refers))
        if not free:  # a cycle: TRUNCATE copes, so let it
            return tables
        ordered += free
        left -= set(free)
    return ordered


def _empty_nara() -> None:
    """Empty the session's tables inside the running test's transaction.

    DELETE, not TRUNCATE: the tables hold a few hundred rows, and TRUNCATE gives each table
    and index a new file (about 0.25 s for all of them, per test). Children go first, so
    no foreign key is ever broken; the test's transaction rolls the rows back.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        if _Session.delete_order is None:
            tables = ", ".join(f'"{t}"' for t in _Session.tables)
            cursor.execute(f"TRUNCATE {tables} CASCADE")
            return
        for table in _Session.delete_order:
            verb = "TRUNCATE" if table in _TRUNCATED else "DELETE FROM"
            cursor.execute(f'{verb} "{table}"')
        # Run the deferred foreign-key checks now (they hold): a later TRUNCATE in the
        # same transaction (the `demo` fixture) refuses tables with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with Nära's scorecard and T2 2022 measurements committed.

    The demo (`load_demo` on an empty database) is made once too, and kept as a snapshot
    for the `demo` fixture.
    """
    with django_db_blocker.unblock():
        before = _row_counts()
        _Session.scorecard = _load_nara()
        after = _row_counts()
        nara_tables = sorted(t for t, n in after.items() if n > before.get(t, 0))
        _Session.nara = Snapshot(nara_tables)
        _Session.tables = nara_tables
        _empty_nara()
        run("load_demo")
        after = _row_counts()
        demo_tables = sorted(t for t, n in after.items() if n > before.get(t, 0))
        _Session.demo = Snapshot(demo_tables)
        _Session.tables = sorted({*nara_tables, *demo_tables})
        order = _children_first(_Session.tables)
        _Session.delete_order = order if order is not _Session.tables else None
        _Session.nara.restore(empty=_Session.tables)
    _Session.blocker = django_db_blocker


def _uses_database(item) -> bool:
    names = getattr(item, "fixturenames", ())
    return bool(
        item.get_closest_marker("django_db")
        or {"db", "transactional_db", "live_server"} & set(names)
    )


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language, as a new process does. A test client
    request activates its user's language in this thread and Django leaves it active after
    the response, so a later test in the same process would read English (a server
    activates each request's own language anew)."""
    translation.deactivate()


@pytest.fixture(autouse=True)
def _nara_visibility(request):
    """Empty the database for a test that did not ask for Nära (see the module's text)."""
    _Session.visible = False
    if not _uses_database(request.node):
        return
    request.getfixturevalue("db")  # the test's transaction (or transactional mode) first
    if "nara" in request.fixturenames:
        _Session.visible = True
    else:
        _empty_nara()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test has flushed the tables, load Nära again for the next."""
    result = yield
    if nextitem is not None and _Session.blocker is not None and _uses_database(item):
        from django.db import connection

        with _Session.blocker.unblock():
            if not connection.in_atomic_block and not _nara_present():
                _Session.nara.restore(empty=_Session.tables)
    return result


def _nara_present() -> bool:
    from divisions.models import OrgUnit

    return OrgUnit.objects.filter(code="div_nara").exists()


@pytest.fixture
def nara_scorecard(db) -> LoadResult:
    """Division Nära's definition, loaded as `load_scorecard FILE` loads it."""
    if _Session.visible:  # a test that also uses `nara`: the session's rows
        return copy.deepcopy(_Session.scorecard)
    return load_definition_file(NARA / "scorecard.yaml")


@pytest.fixture
def nara(nara_scorecard) -> LoadResult:
    """The Nära scorecard with its T2 2022 measurements imported."""
    if not _Session.visible:  # asked for late (getfixturevalue): import as before
        run("import_measurements", str(NARA / "measurements.csv"))
    return nara_scorecard


@pytest.fixture
def demo(db) -> None:
    """What `load_demo` makes of an empty database (made once, restored from a snapshot)."""
    _Session.demo.restore(empty=_Session.tables)


# --------------------------------------------------------------- the cast (tests/cast.py)


@pytest.fixture
def other_division(nara):
    return add_other_division()


@pytest.fixture
def cast(nara, other_division) -> dict:
    """The suite's users by name (tests/cast.py): admin, manager, reporter, board, ..."""
    return add_cast()


# ---------------------------------------------------------------------- rate state (Redis)


def clear_rate_state() -> None:
    """Forget every API throttle count and sign-in limit (accounts/rates.py).

    By key prefix, never FLUSHDB: the same Redis database holds the test's Celery queue.
    """
    from django.core.cache import caches

    cache = caches["rates"]
    redis_client = getattr(cache, "_cache", None)
    if redis_client is None or not hasattr(redis_client, "get_client"):
        cache.clear()  # this process's memory (no Redis configured)
        return
    client = redis_client.get_client(write=True)
    keys = list(client.scan_iter(match=cache.make_key("*"), count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _fresh_rate_state():
    """Each test starts with no request counted and no sign-in failure remembered."""
    clear_rate_state()


# ------------------------------------------------------------------------------- tiers
#
# `make test-fast` leaves out the tiers that start something big; `make test` runs them all.
#   worker:  a real Celery worker on Redis (tests/indicators/test_pipeline.py)
#   browser: Playwright driving Chromium against the live server (tests/e2e)
#   fuzz:    schemathesis against the live server (tests/api/test_schema.py)
#   slow:    large inputs, marked where they are
#   matrix:  the exhaustive permission matrices, marked where they are
#   operations: runs the operator's commands as processes (gunicorn, worker, beat, backup
#            and restore scripts; tests/operations)


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & {"worker", "celery_worker", "benchmarks_worker"}:
            item.add_marker(pytest.mark.worker)
        if names & {"browser", "page"} or "e2e" in item.path.parts:
            item.add_marker(pytest.mark.browser)
        if "fuzz_key" in names:
            item.add_marker(pytest.mark.fuzz)
        if "operations" in item.path.parts:
            item.add_marker(pytest.mark.operations)


# ------------------------------------------------------------------------------- clock


class Clock:
    """Django's clock, stopped: `advance` moves it instead of the test sleeping."""

    def __init__(self, now: datetime.datetime):
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Patches django.utils.timezone.now, which the code reads as `timezone.now()`."""
    from django.utils import timezone

    clock = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", clock)
    return clock
