from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from divisions.models import OrgUnit
from domain import rollup
from domain.kolada import KOLADA_KPI_REGEX
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
from scorecard.models import Scorecard, StatusChoices, SuccessFactor


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


class Aggregation(models.TextChoices):
    """How an indicator's values add up from units to areas, divisions and the region."""

    SUM = rollup.Aggregation.SUM, _("summa")
    RATIO = rollup.Aggregation.RATIO, _("andel av summerad täljare och nämnare")
    WEIGHTED_MEAN = rollup.Aggregation.WEIGHTED_MEAN, _("medelvärde viktat med nämnaren")
    NONE = rollup.Aggregation.NONE, _("summeras inte")


class Indicator(models.Model):
    """A regional catalogue entry (styrmått): what is measured and how it adds up.

    Where and how a report shows it (success factor, name, breakdowns, targets, follow-up)
    belongs to each scorecard's Placement; the catalogue holds what every division shares.
    """

    code = models.SlugField(_("kod"), max_length=64, unique=True)
    name = models.CharField(_("namn"), max_length=400)
    unit = models.CharField(_("enhet"), max_length=16, choices=Unit.choices)
    direction = models.CharField(_("riktning"), max_length=16, choices=DirectionChoices.choices)
    aggregation = models.CharField(
        _("summering"), max_length=16, choices=Aggregation.choices, default=Aggregation.NONE
    )
    # Every breakdown key some placement follows: what an import may send for the indicator.
    breakdowns = models.JSONField(_("uppdelningar"), default=list)
    trend_band = models.DecimalField(
        _("trendband"),
        max_digits=18,
        decimal_places=6,
        default=0,
        help_text=_("Förändring inom bandet räknas som oförändrad."),
    )
    # The same figure in Kolada, for the national comparison (benchmarks app); empty: none.
    kolada_kpi = models.CharField(
        _("Kolada-nyckeltal"),
        max_length=6,
        blank=True,
        default="",
        validators=[
            RegexValidator(
                KOLADA_KPI_REGEX, _("Ett Kolada-id är en bokstav och fem siffror, t.ex. N79173.")
            )
        ],
        help_text=_("Nyckeltalets id i Kolada (t.ex. N79173); tomt om det saknas."),
    )
    # The actions that address the indicator (`action.indicators`): here rather than on
    # scorecard.Action, which sits in the layer below.
    actions = models.ManyToManyField(
        "scorecard.Action", blank=True, related_name="indicators", verbose_name=_("åtgärder")
    )

    class Meta:
        verbose_name = _("styrmått")
        verbose_name_plural = _("styrmått")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(trend_band__gte=0), name="indicator_trend_band_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(kolada_kpi="") | Q(kolada_kpi__regex=KOLADA_KPI_REGEX),
                name="indicator_kolada_kpi_format",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Placement(models.Model):
    """An indicator on one scorecard: where it sits and how that report writes it.

    Its targets are the indicator's Target rows for the scorecard's org unit and year.
    """

    scorecard = models.ForeignKey(
        Scorecard,
        on_delete=models.CASCADE,
        related_name="placements",
        verbose_name=_("styrkort"),
    )
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        related_name="placements",
        verbose_name=_("styrmått"),
    )
    success_factor = models.ForeignKey(
        SuccessFactor,
        on_delete=models.PROTECT,
        related_name="placements",
        verbose_name=_("framgångsfaktor"),
    )
    name = models.CharField(_("namn"), max_length=400)
    breakdowns = models.JSONField(_("uppdelningar"), default=list)
    follow_up = models.JSONField(_("uppföljning"), default=list)
    baseline_text = models.CharField(_("ingångsvärde"), max_length=300, blank=True)
    order = models.PositiveIntegerField(_("ordning"), default=0)

    class Meta:
        verbose_name = _("placering")
        verbose_name_plural = _("placeringar")
        ordering = [
            "success_factor__strategic_goal__perspective__order",
            "success_factor__strategic_goal__order",
            "success_factor__order",
            "order",
            "pk",
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "indicator"], name="placement_once_per_scorecard"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # The catalogue's fields, so that a placement reads like the indicator it places.
    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def unit(self) -> str:
        return self.indicator.unit

    @property
    def direction(self) -> str:
        return self.indicator.direction

    @property
    def trend_band(self):
        return self.indicator.trend_band

    def get_unit_display(self) -> str:
        return self.indicator.get_unit_display()

    def get_direction_display(self) -> str:
        return self.indicator.get_direction_display()


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
            # The API's pages in id order: one indicator's page reads this index in order
            # and stops after the page, where the unique key would fetch and sort all of
            # the indicator's rows (api.pagination.IdCursorPagination).
            models.Index(fields=["indicator", "id"], name="measurement_indicator_id"),
            # The same for one org unit (without subtree): its 10,000 values are not sorted
            # to give the first hundred.
            models.Index(fields=["org_unit", "id"], name="measurement_org_unit_id"),
            # updated_since: the rows changed since a time, found without a table scan.
            models.Index(fields=["updated_at"], name="measurement_updated_at"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.org_unit.code} {self.period} {self.breakdown}"


class Aggregate(models.Model):
    """What an org unit's children add up to for one key, and which leaf units it covers.

    Derived: recompute writes it for every unit with children whenever a value below it
    changes (domain.rollup). A unit's own value, where it has one, wins on its pages; both
    are in the API.
    """

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="aggregates", db_index=False
    )
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="aggregates", db_index=False
    )
    period = models.CharField(_("period"), max_length=7)
    breakdown = models.CharField(_("uppdelning"), max_length=64)
    value = models.DecimalField(_("summerat utfall"), max_digits=20, decimal_places=6)
    numerator = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    denominator = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    covered = models.PositiveIntegerField(_("enheter med värde"))
    expected = models.PositiveIntegerField(_("enheter"))
    missing_units = models.JSONField(_("enheter utan värde"), default=list)
    computed_at = models.DateTimeField(_("beräknad"))

    class Meta:
        verbose_name = _("summerat utfall")
        verbose_name_plural = _("summerade utfall")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "org_unit", "period", "breakdown"],
                name="aggregate_unique_key",
            ),
        ]
        indexes = [models.Index(fields=["org_unit", "period"], name="aggregate_unit_period")]

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.org_unit_id}/{self.period}/{self.breakdown}"

    @property
    def complete(self) -> bool:
        return self.covered == self.expected


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
    # The placement that judged it: the one on the scorecard the unit follows that year.
    placement = models.ForeignKey(
        Placement,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assessments",
        verbose_name=_("placering"),
    )
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


# A note under a table, not an essay: the analysis is where a longer text goes.
CELL_COMMENT_MAX = 2000


class CommentState(models.TextChoices):
    DRAFT = "draft", _("utkast")
    PUBLISHED = "published", _("publicerad")


class CellComment(models.Model):
    """A manager's note on one cell of the report: indicator x org unit x period x breakdown.

    Published notes are shown under the report's tables, as cell comments in its XLSX file
    and as footnotes of the document; drafts only to those who may write them. Written only
    through indicators.comments (audited, refused on a closed period).
    """

    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        related_name="cell_comments",
        verbose_name=_("styrmått"),
        db_index=False,  # the unique key leads with it
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="cell_comments",
        verbose_name=_("organisationsenhet"),
        db_index=False,  # cell_comment_unit_period leads with it
    )
    period = models.CharField(_("period"), max_length=7)
    breakdown = models.CharField(_("uppdelning"), max_length=64, default="total")
    text = models.CharField(_("kommentar"), max_length=CELL_COMMENT_MAX)
    state = models.CharField(
        _("läge"), max_length=16, choices=CommentState.choices, default=CommentState.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("skriven av"),
    )
    created_at = models.DateTimeField(_("skapad"))
    updated_at = models.DateTimeField(_("ändrad"))

    class Meta:
        verbose_name = _("cellkommentar")
        verbose_name_plural = _("cellkommentarer")
        ordering = ["org_unit", "period", "indicator", "breakdown"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "org_unit", "period", "breakdown"],
                name="cell_comment_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(period__regex=PERIOD_REGEX), name="cell_comment_valid_period"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="cell_comment_has_text"),
        ]
        indexes = [models.Index(fields=["org_unit", "period"], name="cell_comment_unit_period")]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.org_unit.code} {self.period} {self.breakdown}"

    @property
    def published(self) -> bool:
        return self.state == CommentState.PUBLISHED
