"""The error list of an import is capped (MAX_STORED_ERRORS) and all errors are counted.

Records written before the cap get their count, and lists longer than the cap are cut to
it: a record with a million errors made every page that showed it carry them all.
"""

from django.db import migrations, models

KEPT = 1000  # indicators.imports.models.MAX_STORED_ERRORS when this was written


def count_and_trim(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        # In the database: a list of a million errors would cost gigabytes in Python.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE indicators_import SET error_count = jsonb_array_length(errors)"
                " WHERE jsonb_typeof(errors) = 'array'"
            )
            cursor.execute(
                "UPDATE indicators_import SET errors = (SELECT jsonb_agg(e ORDER BY n)"
                " FROM jsonb_array_elements(errors) WITH ORDINALITY AS t(e, n)"
                " WHERE n <= %s) WHERE error_count > %s",
                [KEPT, KEPT],
            )
        return
    Import = apps.get_model("indicators", "Import")
    for record in Import.objects.only("pk", "errors").iterator():
        errors = record.errors if isinstance(record.errors, list) else []
        Import.objects.filter(pk=record.pk).update(error_count=len(errors), errors=errors[:KEPT])


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0005_measurement_change_marker_for_sync"),
    ]

    operations = [
        migrations.AddField(
            model_name="import",
            name="error_count",
            field=models.PositiveIntegerField(default=0, verbose_name="antal fel"),
        ),
        migrations.RunPython(count_and_trim, migrations.RunPython.noop),
    ]
