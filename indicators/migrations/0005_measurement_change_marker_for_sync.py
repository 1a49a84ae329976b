"""A change marker on every measurement, set by the database, for the API's lossless sync.

On PostgreSQL a trigger stores the id of the writing transaction (xid8, as bigint) on every
insert and update; the API's watermark is the oldest transaction still running when a sync
reads (pg_snapshot_xmin), so a row written by a transaction that commits later always has
a marker at or above it (docs/domain.md, "Synchronisation"). On SQLite, which has one
writer at a time, the triggers number the writes instead. Existing rows keep no marker
(null): a first full sync reads them, and any later write marks them.
"""

from django.db import migrations, models

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION indicators_measurement_change_marker() RETURNS trigger AS $$
BEGIN
    NEW.change_marker := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER indicators_measurement_change_marker
    BEFORE INSERT OR UPDATE ON indicators_measurement
    FOR EACH ROW EXECUTE FUNCTION indicators_measurement_change_marker();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS indicators_measurement_change_marker ON indicators_measurement;
DROP FUNCTION IF EXISTS indicators_measurement_change_marker();
"""
_SQLITE_MARK = (
    "BEGIN UPDATE indicators_measurement SET change_marker ="
    " (SELECT COALESCE(MAX(change_marker), 0) + 1 FROM indicators_measurement)"
    " WHERE id = NEW.id; END;"
)
SQLITE_UP = [
    "CREATE TRIGGER indicators_measurement_change_marker_insert"
    " AFTER INSERT ON indicators_measurement " + _SQLITE_MARK,
    # Every column but the marker itself, so the trigger's own UPDATE does not fire it.
    "CREATE TRIGGER indicators_measurement_change_marker_update"
    " AFTER UPDATE OF indicator_id, org_unit_id, period, breakdown, value, numerator,"
    " denominator, comment, source_import_id, source_row, entered_by_id, updated_at"
    " ON indicators_measurement " + _SQLITE_MARK,
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS indicators_measurement_change_marker_insert;",
    "DROP TRIGGER IF EXISTS indicators_measurement_change_marker_update;",
]


def _run(schema_editor, statements) -> None:
    if isinstance(statements, str):
        statements = [statements]
    for statement in statements:
        schema_editor.execute(statement, params=None)


def up(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRES_UP)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_UP)


def down(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRES_DOWN)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("indicators", "0004_aggregates")]

    operations = [
        migrations.AddField(
            model_name="measurement",
            name="change_marker",
            field=models.BigIntegerField(
                editable=False, null=True, verbose_name="ändringsmarkör"
            ),
        ),
        migrations.AddIndex(
            model_name="measurement",
            index=models.Index(fields=["change_marker"], name="measurement_change_marker"),
        ),
        migrations.RunPython(up, down),
    ]
