"""Key figures fetched from Kolada for the national comparison, and the log of each sync.

Pages read these rows only: no page ever asks Kolada (benchmarks.sync writes them, from
Celery beat or `manage.py sync_benchmarks`).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from domain.kolada import AREA_REGEX, KOLADA_KPI_REGEX


class Gender(models.TextChoices):
    TOTAL = "T", _("Totalt")
    WOMEN = "K", _("Kvinnor")
    MEN = "M", _("Män")


class BenchmarkKpi(models.Model):
    """A Kolada KPI some indicator is mapped to, as Kolada last described it."""

    id = models.CharField(_("Kolada-id"), max_length=6, primary_key=True)
    title = models.CharField(_("titel"), max_length=2000, blank=True)
    publication_date = models.DateField(_("publicerad"), null=True, blank=True)
    is_divided_by_gender = models.BooleanField(_("uppdelat på kön"), default=False)
    municipality_type = models.CharField(_("områdestyp"), max_length=8, blank=True)
    source = models.CharField(_("källa"), max_length=200)
    # Set when Kolada no longer knows the KPI: its stored values stay and say so.
    withdrawn_at = models.DateTimeField(_("upphörde"), null=True, blank=True)

    class Meta:
        verbose_name = _("Kolada-nyckeltal")
        verbose_name_plural = _("Kolada-nyckeltal")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(id__regex=KOLADA_KPI_REGEX), name="benchmark_kpi_id_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.title}".strip()


class BenchmarkArea(models.Model):
    """A Kolada area (region, municipality or the country) by its four-digit id."""

    id = models.CharField(_("Kolada-id"), max_length=4, primary_key=True)
    title = models.CharField(_("namn"), max_length=200)
    type = models.CharField(_("typ"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("Kolada-område")
        verbose_name_plural = _("Kolada-områden")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(id__regex=AREA_REGEX), name="benchmark_area_id_format"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class BenchmarkValue(models.Model):
    """One annual value of a KPI for one area and gender, as Kolada published it."""

    kpi = models.ForeignKey(
        BenchmarkKpi, on_delete=models.CASCADE, related_name="values", verbose_name=_("nyckeltal")
    )
    area = models.CharField(_("område"), max_length=4)
    year = models.PositiveSmallIntegerField(_("år"))
    gender = models.CharField(_("kön"), max_length=1, choices=Gender.choices)
    value = models.DecimalField(_("värde"), max_digits=18, decimal_places=6, null=True)
    count = models.PositiveIntegerField(_("antal"), default=1)
    status = models.CharField(_("status"), max_length=32, blank=True)
    source = models.CharField(_("källa"), max_length=200)
    publication_date = models.DateField(_("publicerad"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("hämtad"))

    class Meta:
        verbose_name = _("jämförelsevärde")
        verbose_name_plural = _("jämförelsevärden")
        ordering = ["kpi_id", "area", "year", "gender"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "area", "year", "gender"], name="benchmark_value_unique"
            ),
            models.CheckConstraint(
                condition=Q(area__regex=AREA_REGEX), name="benchmark_value_area_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.area} {self.year} {self.gender}"


class SyncOutcome(models.TextChoices):
    CHANGED = "changed", _("Ändrade värden")
    UNCHANGED = "unchanged", _("Inget ändrat")
    FAILED = "failed", _("Misslyckades")
    PARTIAL = "partial", _("Delvis misslyckad")


class BenchmarkSync(models.Model):
    """One run of the sync: what it asked for, what it changed, what went wrong."""

    started_at = models.DateTimeField(_("startad"))
    finished_at = models.DateTimeField(_("klar"))
    outcome = models.CharField(_("utfall"), max_length=16, choices=SyncOutcome.choices)
    source = models.CharField(_("källa"), max_length=200)
    kpis = models.JSONField(_("nyckeltal"), default=list)
    areas = models.JSONField(_("områden"), default=list)
    created = models.PositiveIntegerField(_("nya värden"), default=0)
    changed = models.PositiveIntegerField(_("ändrade värden"), default=0)
    unchanged = models.PositiveIntegerField(_("oförändrade värden"), default=0)
    errors = models.JSONField(_("fel"), default=list)

    class Meta:
        verbose_name = _("hämtning från Kolada")
        verbose_name_plural = _("hämtningar från Kolada")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_outcome_display()}"
