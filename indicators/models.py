from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from divisions.models import OrgUnit
from domain.periods import PERIOD_REGEX
from domain.rules import Direction, Status, TargetKind, Trend, status_after_override
from indicators.imports.models import (  # noqa: F401  (registered with this app here)
    ACTIVE_IMPORT_STATUSES,
    QUEUED_IMPORT_SOURCES,
    Import,
    ImportPhase,
    ImportSource,
    ImportStatus,
)
from scorecard.models import StatusChoices, SuccessFactor


class Unit(models.TextChoices):
    PERCENT = "percent", _("procent")
    COUNT = "count", _("antal")
    INDEX = "index", _("index")
    MSEK = "msek", _("mnkr")
    RATIO = "ratio", _("kvot")


class DirectionChoices(models.TextChoices):
    HIGHER_IS_BETTER = Direction.HIGHER_IS_BETTER, _("högre är bättre")
    LOWER_IS_BETTER = Direction.LOWER_IS_BETTER, _("lägre är bättre")
    CLOSER_TO_TARGET = Direction.CLOSER_TO_TARGET, _("närmare målet är bättre")


class TargetKindChoices(models.TextChoices):
    AT_LEAST = TargetKind.AT_LEAST, _("minst")
    AT_MOST = TargetKind.AT_MOST, _("högst")
    INCREASE = TargetKind.INCREASE, _("öka")
    DECREASE = TargetKind.DECREASE, _("minska")
    NONE = TargetKind.NONE, _("följs upp")


class TrendChoices(models.TextChoices):
    IMPROVED = Trend.IMPROVED, _("Förbättrad")
    UNCHANGED = Trend.UNCHANGED, _("Oförändrad")
    WORSENED = Trend.WORSENED, _("Försämrad")
    NO_DATA = Trend.NO_DATA, _("Jämförelse saknas")


class Indicator(models.Model):
    """A measure (styrmått) under a success factor."""

    code = models.SlugField(_("kod"), max_length=64, unique=True)
    success_factor = models.ForeignKey(
        SuccessFactor,
        verbose_name=_("framgångsfaktor"),
        on_delete=models.PROTECT,
        related_name="indicators",
    )
    # The org unit whose scorecard holds the indicator; empty = every org unit's.
    owner = models.ForeignKey(
        OrgUnit,
        verbose_name=_("ägare"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="indicators",
    )
    name = models.CharField(_("namn"), max_length=400)
    unit = models.CharField(_("enhet"), max_length=16, choices=Unit.choices)
    direction = models.CharField(_("riktning"), max_length=16, choices=DirectionChoices.choices)
    breakdowns = models.JSONField(_("uppdelningar"), default=list)
    follow_up = models.JSONField(_("uppföljning"), default=list)
    baseline_text = models.CharField(_("ingångsvärde"), max_length=300, blank=True)
    trend_band = models.DecimalField(
        _("trendband"),
        max_digits=18,
        decimal_places=6,
        default=0,
        help_text=_("Förändring inom bandet räknas som oförändrad."),
    )
    order = models.PositiveIntegerField(_("ordning"), default=0)

    class Meta:
        verbose_name = _("styrmått")
        verbose_name_plural = _("styrmått")
        ordering = [
            "success_factor__strategic_goal__perspective__order",
            "success_factor__strategic_goal__order",
            "success_factor__order",
            "order",
            "pk",
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(trend_band__gte=0), name="indicator_trend_band_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """A target for an indicator; the most specific one (org unit, breakdown, year) wins.

    year empty = a standing target for every year that has none of its own; org unit empty =
    region-wide; breakdown empty = the total and the gender split.
    """

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="targets", verbose_name=_("styrmått")
    )
    year = models.PositiveSmallIntegerField(_("år"), null=True, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("organisationsenhet"),
    )
    breakdown = models.CharField(_("uppdelning"), max_length=64, blank=True, default="")
    kind = models.CharField(_("typ"), max_length=16, choices=TargetKindChoices.choices)
    value = models.DecimalField(
        _("målvärde"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    band = models.DecimalField(
        _("band"),
        max_digits=18,
        decimal_places=6,
        null=True,
        blank=True,
        help_text=_("Tomt = standard (10 % av målvärdet, 0 för öka/minska)."),
    )
    base_year = models.PositiveSmallIntegerField(_("basår"), null=True, blank=True)
    relative_change = models.DecimalField(
        _("relativ förändring"), max_digits=8, decimal_places=6, null=True, blank=True
    )
    annual = models.BooleanField(_("helårsmål"), default=False)
    text = models.CharField(_("måltext"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("mål")
        verbose_name_plural = _("mål")
        constraints = [
            # NULL is not equal to NULL in a unique index, so each nullable combination gets
            # its own partial constraint (works the same on PostgreSQL and SQLite).
            models.UniqueConstraint(
                fields=["indicator", "year", "org_unit", "breakdown"],
                condition=Q(year__isnull=False, org_unit__isnull=False),
                name="target_unique_year_unit",
            ),
            models.UniqueConstraint(
                fields=["indicator", "year", "breakdown"],
                condition=Q(year__isnull=False, org_unit__isnull=True),
                name="target_unique_year",
            ),
            models.UniqueConstraint(
                fields=["indicator", "org_unit", "breakdown"],
                condition=Q(year__isnull=True, org_unit__isnull=False),
                name="target_unique_unit",
            ),
            models.UniqueConstraint(
                fields=["indicator", "breakdown"],
                condition=Q(year__isnull=True, org_unit__isnull=True),
                name="target_unique_standing",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["at_least", "at_most"], value__isnull=False)
                | ~Q(kind__in=["at_least", "at_most"]),
                name="target_threshold_has_value",
            ),
            models.CheckConstraint(
                condition=Q(band__isnull=True) | Q(band__gte=0), name="target_band_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.text or self.get_kind_display()


class Measurement(models.Model):
    """One number: indicator x org unit x period x breakdown, with where it came from."""

    # No single-column indexes on these two: the unique key leads with indicator and
    # measurement_unit_period with org_unit, so they would only slow down every write.
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        related_name="measurements",
        verbose_name=_("styrmått"),
        db_index=False,
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="measurements",
        verbose_name=_("organisationsenhet"),
        db_index=False,
    )
    period = models.CharField(_("period"), max_length=7)
    breakdown = models.CharField(_("uppdelning"), max_length=64, default="total")
    value = models.DecimalField(_("utfall"), max_digits=20, decimal_places=6)
    numerator = models.DecimalField(
        _("täljare"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    denominator = models.DecimalField(
        _("nämnare"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    comment = models.TextField(_("kommentar"), blank=True)
    source_import = models.ForeignKey(
        Import,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="measurements",
        verbose_name=_("import"),
    )
    source_row = models.PositiveIntegerField(_("rad i filen"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("inmatad av"),
    )
    updated_at = models.DateTimeField(_("ändrad"))
    # Set by the database on every insert and update (a trigger, so every write path has it):
    # on PostgreSQL the id of the writing transaction, on SQLite a counter. The API's sync
    # watermark is read against it (indicators.selectors.sync_watermark, docs/domain.md).
    # Null: last written before markers existed.
    change_marker = models.BigIntegerField(_("ändringsmarkör"), null=True, editable=False)

    class Meta:
        verbose_name = _("utfall")
        verbose_name_plural = _("utfall")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "org_unit", "period", "breakdown"],
                name="measurement_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(period__regex=PERIOD_REGEX), name="measurement_valid_period"
            ),
            models.CheckConstraint(
                condition=Q(denominator__isnull=True) | Q(denominator__gt=0),
                name="measurement_denominator_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["org_unit", "period"], name="measurement_unit_period"),
            models.Index(fields=["change_marker"], name="measurement_change_marker"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.org_unit.code} {self.period} {self.breakdown}"


class MeasurementRevision(models.Model):
    """An earlier value of a measurement, kept when an import or a user replaced it."""

    measurement = models.ForeignKey(Measurement, on_delete=models.CASCADE, related_name="revisions")
    value = models.DecimalField(max_digits=20, decimal_places=6)
    numerator = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    denominator = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    comment = models.TextField(blank=True)
    source_import = models.ForeignKey(
        Import, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_row = models.PositiveIntegerField(null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    valid_from = models.DateTimeField()
    replaced_at = models.DateTimeField()
    replaced_by_import = models.ForeignKey(
        Import, null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_revisions"
    )

    class Meta:
        verbose_name = _("tidigare utfall")
        verbose_name_plural = _("tidigare utfall")
        ordering = ["-replaced_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.value} ({self.valid_from:%Y-%m-%d} – {self.replaced_at:%Y-%m-%d})"


class Assessment(models.Model):
    """Goal fulfilment of an indicator for an org unit and period.

    Stored, and recomputed by the services when a measurement or target it depends on
    changes, so pages read it instead of computing it on every view.
    """

    # Covered by assessment_unique_key and assessment_unit_period (see Measurement).
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.CASCADE,
        related_name="assessments",
        verbose_name=_("styrmått"),
        db_index=False,
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("organisationsenhet"),
        db_index=False,
    )
    period = models.CharField(_("period"), max_length=7)
    computed_status = models.CharField(
        _("beräknad måluppfyllelse"), max_length=16, choices=StatusChoices.choices
    )
    trend = models.CharField(_("utveckling"), max_length=16, choices=TrendChoices.choices)
    # Per breakdown: {"women": {"status": ..., "trend": ..., "threshold": "16"}, ...}
    details = models.JSONField(default=dict, blank=True)
    override_status = models.CharField(
        _("manuell måluppfyllelse"),
        max_length=16,
        choices=StatusChoices.choices,
        blank=True,
        default="",
    )
    override_comment = models.TextField(_("motivering"), blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    analysis = models.TextField(_("analys"), blank=True)
    computed_at = models.DateTimeField(_("beräknad"))

    class Meta:
        verbose_name = _("måluppfyllelse")
        verbose_name_plural = _("måluppfyllelser")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "org_unit", "period"], name="assessment_unique_key"
            ),
            models.CheckConstraint(
                condition=Q(period__regex=PERIOD_REGEX), name="assessment_valid_period"
            ),
            # An override without its reason is not an override (DOMAIN.md).
            models.CheckConstraint(
                condition=Q(override_status="") | ~Q(override_comment=""),
                name="assessment_override_has_comment",
            ),
        ]
        indexes = [models.Index(fields=["org_unit", "period"], name="assessment_unit_period")]

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.org_unit_id}/{self.period}: {self.status}"

    # The status a reader sees: the override where set, else the computed one
    # (domain.rules.status_after_override); effective_status() below is its SQL form.
    @property
    def status(self) -> str:
        return self._after_override(self.computed_status)

    def breakdown_status(self, breakdown: str) -> str:
        """The status shown on a breakdown's line; "" when that breakdown was not assessed."""
        computed = (self.details.get(breakdown) or {}).get("status") or ""
        return self._after_override(computed) if computed else ""

    def _after_override(self, computed: str) -> str:
        override = Status(self.override_status) if self.override_status else None
        return status_after_override(Status(computed), override, self.override_comment)


def effective_status():
    """Assessment.status in SQL, to filter, count and group by what readers see."""
    from django.db.models import Value
    from django.db.models.functions import NullIf

    return Coalesce(NullIf(F("override_status"), Value("")), F("computed_status"))
