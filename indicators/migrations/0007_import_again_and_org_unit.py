"""Files can be imported again on purpose (with a reason), previews block nobody, and an
import knows the org unit its rows are under (whose writers may download the file)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def common_path(paths):
    """The deepest materialised path ('/r/d/') that every path in `paths` is under."""
    parts = None
    for path in paths:
        codes = path.strip("/").split("/")
        if parts is None:
            parts = codes
        else:
            length = 0
            while length < min(len(parts), len(codes)) and parts[length] == codes[length]:
                length += 1
            parts = parts[:length]
    return "/" + "".join(f"{code}/" for code in parts) if parts else None


def org_unit_of_imports(apps, schema_editor):
    """Imports made before this migration: the unit whose subtree holds every value they
    brought (those still current and those replaced since)."""
    Import = apps.get_model("indicators", "Import")
    Measurement = apps.get_model("indicators", "Measurement")
    MeasurementRevision = apps.get_model("indicators", "MeasurementRevision")
    OrgUnit = apps.get_model("divisions", "OrgUnit")
    paths = dict(OrgUnit.objects.values_list("pk", "path"))
    units = {}
    for import_id, unit_id in Measurement.objects.filter(source_import__isnull=False).values_list(
        "source_import_id", "org_unit_id"
    ).distinct():
        units.setdefault(import_id, set()).add(unit_id)
    for import_id, unit_id in MeasurementRevision.objects.filter(
        source_import__isnull=False
    ).values_list("source_import_id", "measurement__org_unit_id").distinct():
        units.setdefault(import_id, set()).add(unit_id)
    by_path = {path: pk for pk, path in paths.items()}
    for import_id, unit_ids in units.items():
        path = common_path(paths[u] for u in unit_ids if u in paths)
        if path in by_path:
            Import.objects.filter(pk=import_id).update(org_unit_id=by_path[path])


class Migration(migrations.Migration):

    dependencies = [
        ('divisions', '0002_roleassignment_writer_has_scope'),
        ('indicators', '0006_import_error_count'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='import',
            name='import_unique_active_queued_file',
        ),
        migrations.AddField(
            model_name='import',
            name='org_unit',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='divisions.orgunit', verbose_name='organisationsenhet'),
        ),
        migrations.AddField(
            model_name='import',
            name='reason',
            field=models.CharField(blank=True, max_length=500, verbose_name='skäl'),
        ),
        migrations.AddField(
            model_name='import',
            name='reimport_of',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reimports', to='indicators.import', verbose_name='importerad igen från'),
        ),
        migrations.AddConstraint(
            model_name='import',
            constraint=models.UniqueConstraint(condition=models.Q(('source__in', ('upload', 'api', 'inbox')), ('reimport_of__isnull', True), ('status__in', ('queued', 'running', 'succeeded')), models.Q(('preview', True), ('previewed_at__isnull', True), _negated=True)), fields=('sha256',), name='import_unique_active_queued_file'),
        ),
        migrations.RunPython(org_unit_of_imports, migrations.RunPython.noop),
    ]
