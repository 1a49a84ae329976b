"""Indicators become a regional catalogue; where a report shows one becomes a Placement.

Data: each org unit that owned indicators (or, for region-wide ones, the single division, else
the region) gets a scorecard from the first year its targets or values name; its indicators
are placed there with their success factor, name, breakdowns, follow-up and order, and their
region-wide targets become that unit's. Shares aggregate by numerator and denominator, counts
and amounts by sum.
"""

import datetime

import django.db.models.deletion
from django.db import migrations, models


def _owner_for(OrgUnit, owner_id, cache):
    if owner_id is not None:
        return owner_id
    if "default" not in cache:
        divisions = list(OrgUnit.objects.filter(kind="division").values_list("pk", flat=True))
        region = OrgUnit.objects.filter(parent__isnull=True).values_list("pk", flat=True).first()
        cache["default"] = divisions[0] if len(divisions) == 1 else region
    return cache["default"]


def carry_over(apps, schema_editor):
    Indicator = apps.get_model("indicators", "Indicator")
    Placement = apps.get_model("indicators", "Placement")
    Target = apps.get_model("indicators", "Target")
    Measurement = apps.get_model("indicators", "Measurement")
    Assessment = apps.get_model("indicators", "Assessment")
    OrgUnit = apps.get_model("divisions", "OrgUnit")
    Scorecard = apps.get_model("scorecard", "Scorecard")
    SuccessFactor = apps.get_model("scorecard", "SuccessFactor")

    indicators = list(Indicator.objects.order_by("pk"))
    if not indicators:
        SuccessFactor.objects.all().delete()  # no scorecard to hold them (an empty database)
        return
    years = [y for y in Target.objects.values_list("year", flat=True) if y]
    first_period = Measurement.objects.order_by("period").values_list("period", flat=True).first()
    if first_period:
        years.append(int(first_period[:4]))
    year = min(years) if years else datetime.date.today().year

    cache, scorecards, factor_copies = {}, {}, {}
    for indicator in indicators:
        owner_id = _owner_for(OrgUnit, indicator.owner_id, cache)
        if owner_id is None:
            continue
        scorecard = scorecards.get(owner_id)
        if scorecard is None:
            scorecard = scorecards[owner_id] = Scorecard.objects.create(
                org_unit_id=owner_id, year=year, source="migration"
            )
        key = (indicator.success_factor_id, scorecard.pk)
        if key not in factor_copies:
            factor = SuccessFactor.objects.get(pk=indicator.success_factor_id)
            if factor.scorecard_id is None:
                factor.scorecard_id = scorecard.pk
                factor.save(update_fields=["scorecard"])
            elif factor.scorecard_id != scorecard.pk:  # shared by two owners: each its own
                factor.pk = None
                factor.scorecard_id = scorecard.pk
                factor.save()
            factor_copies[key] = factor.pk
        placement = Placement.objects.create(
            scorecard=scorecard,
            indicator=indicator,
            success_factor_id=factor_copies[key],
            name=indicator.name,
            breakdowns=indicator.breakdowns,
            follow_up=indicator.follow_up,
            baseline_text=indicator.baseline_text,
            order=indicator.order,
        )
        Assessment.objects.filter(indicator=indicator).update(placement=placement)
        Target.objects.filter(indicator=indicator, org_unit__isnull=True).update(
            org_unit_id=owner_id
        )
        unit = indicator.unit
        indicator.aggregation = (
            "ratio" if unit == "percent" else "sum" if unit in ("count", "msek") else "none"
        )
        indicator.save(update_fields=["aggregation"])
    first = next(iter(scorecards.values()), None)
    leftover = SuccessFactor.objects.filter(scorecard__isnull=True)
    if first is not None:
        leftover.update(scorecard=first)
    if schema_editor.connection.vendor == "postgresql":
        # Check the new rows' foreign keys now: PostgreSQL refuses to alter a table (the
        # field removals below) while deferred checks on it are pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0002_import_pipeline"),
        ("scorecard", "0003_scorecards_per_unit_and_year"),
    ]

    operations = [
        migrations.AddField(
            model_name="indicator",
            name="aggregation",
            field=models.CharField(
                choices=[
                    ("sum", "summa"),
                    ("ratio", "andel av summerad täljare och nämnare"),
                    ("weighted_mean", "medelvärde viktat med nämnaren"),
                    ("none", "summeras inte"),
                ],
                default="none",
                max_length=16,
                verbose_name="summering",
            ),
        ),
        migrations.CreateModel(
            name="Placement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=400, verbose_name="namn")),
                ("breakdowns", models.JSONField(default=list, verbose_name="uppdelningar")),
                ("follow_up", models.JSONField(default=list, verbose_name="uppföljning")),
                (
                    "baseline_text",
                    models.CharField(blank=True, max_length=300, verbose_name="ingångsvärde"),
                ),
                ("order", models.PositiveIntegerField(default=0, verbose_name="ordning")),
                (
                    "indicator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="placements",
                        to="indicators.indicator",
                        verbose_name="styrmått",
                    ),
                ),
                (
                    "scorecard",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="placements",
                        to="scorecard.scorecard",
                        verbose_name="styrkort",
                    ),
                ),
                (
                    "success_factor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="placements",
                        to="scorecard.successfactor",
                        verbose_name="framgångsfaktor",
                    ),
                ),
            ],
            options={
                "verbose_name": "placering",
                "verbose_name_plural": "placeringar",
                "ordering": [
                    "success_factor__strategic_goal__perspective__order",
                    "success_factor__strategic_goal__order",
                    "success_factor__order",
                    "order",
                    "pk",
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("scorecard", "indicator"), name="placement_once_per_scorecard"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="assessment",
            name="placement",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="assessments",
                to="indicators.placement",
                verbose_name="placering",
            ),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="indicator", name="baseline_text"),
        migrations.RemoveField(model_name="indicator", name="follow_up"),
        migrations.RemoveField(model_name="indicator", name="order"),
        migrations.RemoveField(model_name="indicator", name="owner"),
        migrations.RemoveField(model_name="indicator", name="success_factor"),
        migrations.AlterModelOptions(
            name="indicator",
            options={
                "ordering": ["code"],
                "verbose_name": "styrmått",
                "verbose_name_plural": "styrmått",
            },
        ),
    ]
