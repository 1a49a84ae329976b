"""Every success factor belongs to a scorecard (indicators 0003 attached the existing ones)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scorecard", "0003_scorecards_per_unit_and_year"),
        ("indicators", "0003_scorecards_per_unit_and_year"),
    ]

    operations = [
        migrations.AlterField(
            model_name="successfactor",
            name="scorecard",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="success_factors",
                to="scorecard.scorecard",
                verbose_name="styrkort",
            ),
        ),
    ]
