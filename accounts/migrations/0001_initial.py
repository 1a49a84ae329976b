import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, verbose_name="namn")),
                ("prefix", models.CharField(editable=False, max_length=8, verbose_name="början av nyckeln")),
                ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="skapad")),
                ("last_used_at", models.DateTimeField(blank=True, null=True, verbose_name="senast använd")),
                ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="återkallad")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="användare",
                    ),
                ),
            ],
            options={
                "verbose_name": "API-nyckel",
                "verbose_name_plural": "API-nycklar",
                "ordering": ["-created_at", "-pk"],
            },
        ),
    ]
