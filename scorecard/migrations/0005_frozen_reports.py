"""Frozen reports of closed periods; the reasons for closing and reopening.

Closes reopened before a reason was asked for get one that says so, so that the rule
"a reopening has a reason" holds as a constraint.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def give_old_reopenings_a_reason(apps, schema_editor):
    PeriodClose = apps.get_model("scorecard", "PeriodClose")
    PeriodClose.objects.filter(reopened_at__isnull=False, reopen_reason="").update(
        reopen_reason="(öppnad igen innan motivering krävdes)"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('divisions', '0002_roleassignment_writer_has_scope'),
        ('scorecard', '0004_successfactor_scorecard_required'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='FrozenReport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('content', models.JSONField(verbose_name='innehåll')),
                ('created_at', models.DateTimeField(verbose_name='fastställd')),
            ],
            options={
                'verbose_name': 'fastställd rapport',
                'verbose_name_plural': 'fastställda rapporter',
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.AddField(
            model_name='periodclose',
            name='reason',
            field=models.TextField(blank=True, verbose_name='motivering'),
        ),
        migrations.AddField(
            model_name='periodclose',
            name='reopen_reason',
            field=models.TextField(blank=True, verbose_name='motivering för att öppna igen'),
        ),
        migrations.RunPython(give_old_reopenings_a_reason, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='periodclose',
            constraint=models.CheckConstraint(condition=models.Q(('reopened_at__isnull', True), models.Q(('reopen_reason', ''), _negated=True), _connector='OR'), name='periodclose_reopen_has_reason'),
        ),
        migrations.AddField(
            model_name='frozenreport',
            name='close',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='frozen_reports', to='scorecard.periodclose', verbose_name='stängning'),
        ),
        migrations.AddField(
            model_name='frozenreport',
            name='org_unit',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='frozen_reports', to='divisions.orgunit', verbose_name='organisationsenhet'),
        ),
        migrations.AddConstraint(
            model_name='frozenreport',
            constraint=models.UniqueConstraint(fields=('close', 'org_unit'), name='frozenreport_once'),
        ),
    ]
