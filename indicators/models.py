from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from divisions.models import OrgUnit
from domain.exchange.format import RowError
from domain.periods import PERIOD_REGEX
from domain.rules import Direction, TargetKind, Trend
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


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("I kö")
    RUNNING = "running", _("Pågår")
    PREVIEWED = "previewed", _("Väntar på godkännande")
    SUCCEEDED = "succeeded", _("Klar")
    FAILED = "failed", _("Misslyckades")
    DISCARDED = "discarded", _("Förkastad")


# A file with one of these statuses is on its way in or in: the same file again is a duplicate.
ACTIVE_IMPORT_STATUSES = (
    ImportStatus.QUEUED,
    ImportStatus.RUNNING,
    ImportStatus.PREVIEWED,
    ImportStatus.SUCCEEDED,
)


class ImportSource(models.TextChoices):
    COMMAND = "command", _("Kommandorad")
    UPLOAD = "upload", _("Uppladdning")
    API = "api", _("API")
    INBOX = "inbox", _("Inkorg")
    DEMO = "demo", _("Demodata")


# The ways in that go through the queue, where a file sent twice must not be applied twice.
# (The command line may re-run a file on purpose: it reports 0 created, 0 changed.)
QUEUED_IMPORT_SOURCES = (ImportSource.UPLOAD, ImportSource.API, ImportSource.INBOX)


class ImportPhase(models.TextChoices):
    READING = "reading", _("Läser och kontrollerar")
    RECOMPUTING = "recomputing", _("Räknar om måluppfyllelse")


class Import(models.Model):
    """One file of measurements sent in, whatever its outcome."""

    filename = models.CharField(_("filnamn"), max_length=255)
    file = models.FileField(_("fil"), upload_to="imports/%Y/%m/", max_length=500, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.BigIntegerField(_("storlek (byte)"))
    source = models.CharField(_("källa"), max_length=16, choices=ImportSource.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("användare"),
    )
    preview = models.BooleanField(
        _("förhandsgranska"),
        default=False,
        help_text=_("Visa vad som skulle ändras och vänta på godkännande innan något skrivs."),
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
        verbose_name=_("samma fil som"),
    )
    rows_total = models.PositiveIntegerField(_("rader"), default=0)
    rows_done = models.PositiveIntegerField(_("rader klara"), default=0)
    phase = models.CharField(
        _("steg"), max_length=16, choices=ImportPhase.choices, blank=True, default=""
    )
    created = models.PositiveIntegerField(_("nya"), default=0)
    changed = models.PositiveIntegerField(_("ändrade"), default=0)
    unchanged = models.PositiveIntegerField(_("oförändrade"), default=0)
    rejected = models.PositiveIntegerField(_("avvisade"), default=0)
    errors = models.JSONField(_("fel"), default=list, blank=True)
    # {"created": [...], "changed": [...]}: a sample of the rows, old value beside new.
    preview_rows = models.JSONField(_("förhandsgranskning"), default=dict, blank=True)
    received_at = models.DateTimeField(_("mottagen"), default=timezone.now)
    # Set again when a worker starts on it; with finished_at it gives the duration.
    started_at = models.DateTimeField(_("startad"), auto_now_add=True)
    finished_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    previewed_at = models.DateTimeField(_("förhandsgranskad"), null=True, blank=True)
    enqueued_at = models.DateTimeField(_("köad"), null=True, blank=True)
    # Liveness of a running import: a worker that dies stops the heartbeat, and the sweep or
    # the redelivered task takes the import over (see indicators.imports.run).
    heartbeat_at = models.DateTimeField(_("senast aktiv"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("försök"), default=0)
    worker = models.CharField(_("arbetare"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("importer")
        ordering = ["-received_at", "-pk"]
        constraints = [
            # Closes the race of two identical uploads at once; the service checks first.
            models.UniqueConstraint(
                fields=["sha256"],
                condition=Q(status__in=ACTIVE_IMPORT_STATUSES, source__in=QUEUED_IMPORT_SOURCES),
                name="import_unique_active_queued_file",
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="import_status_heartbeat")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    # The state machine. Only these methods write `status`: queued -> running -> succeeded,
    # failed or previewed; previewed -> queued (approved) or discarded. Transitions another
    # process may race are conditional updates that say whether they happened.

    @classmethod
    def start(cls, **fields) -> "Import":
        """A record for an import run here and now, not through the queue."""
        now = timezone.now()
        return cls.objects.create(
            status=ImportStatus.RUNNING, received_at=now, started_at=now, **fields
        )

    @classmethod
    def claim(cls, pk: int, *, worker: str, stale_before: datetime) -> bool:
        """Take a queued import, or a running one whose worker stopped beating."""
        now = timezone.now()
        takeable = (
            Q(status=ImportStatus.QUEUED)
            | Q(status=ImportStatus.RUNNING, heartbeat_at__lt=stale_before)
            | Q(status=ImportStatus.RUNNING, heartbeat_at__isnull=True)
        )
        return bool(
            cls.objects.filter(takeable, pk=pk).update(
                status=ImportStatus.RUNNING,
                attempts=F("attempts") + 1,
                heartbeat_at=now,
                started_at=now,
                finished_at=None,
                rows_done=0,
                phase=ImportPhase.READING,
                worker=worker,
            )
        )

    @classmethod
    def beat(cls, pk: int, **progress) -> None:
        """Heartbeat and progress (rows_done, rows_total, phase) of a running import."""
        cls.objects.filter(pk=pk, status=ImportStatus.RUNNING).update(
            heartbeat_at=timezone.now(), **progress
        )

    def mark_enqueued(self) -> None:
        Import.objects.filter(pk=self.pk).update(enqueued_at=timezone.now())

    def _finish(self, status: str, errors: Iterable[RowError] = (), **fields) -> None:
        self.status = status
        self.errors = [{"row": e.row, "column": e.column, "message": e.message} for e in errors]
        self.finished_at = timezone.now()
        self.phase = ""
        for name, value in fields.items():
            setattr(self, name, value)
        self.save()

    def fail(self, errors: Iterable[RowError], **counts: int) -> None:
        """Failed, with why; `counts` may set rejected and rows_total."""
        self._finish(ImportStatus.FAILED, errors, **counts)

    def mark_previewed(self, *, preview_rows: dict[str, list[dict]], **counts: int) -> None:
        """Classified and rolled back; waits for someone to apply or discard it."""
        self._finish(
            ImportStatus.PREVIEWED,
            preview_rows=preview_rows,
            previewed_at=timezone.now(),
            **counts,
        )

    def mark_duplicate(self, original: "Import") -> None:
        """Saved failed at once, pointing at the first: the same file is not applied twice."""
        message = (
            f"the same file (SHA-256 {original.sha256[:12]}…) was received as import "
            f"#{original.pk} on {timezone.localtime(original.received_at):%Y-%m-%d %H:%M}; "
            "it is not applied twice"
        )
        self.duplicate_of = original
        self.preview = False
        self._finish(ImportStatus.FAILED, [RowError(0, "", message)])

    def succeed(self, *, created: int, changed: int, unchanged: int, rows_total: int) -> bool:
        """Succeeded, unless another attempt has taken the import over since this one
        started (then nothing is written and False returned)."""
        return bool(
            Import.objects.filter(pk=self.pk, attempts=self.attempts).update(
                status=ImportStatus.SUCCEEDED,
                created=created,
                changed=changed,
                unchanged=unchanged,
                rejected=0,
                errors=[],
                rows_total=rows_total,
                rows_done=rows_total,
                phase="",
                finished_at=timezone.now(),
            )
        )

    def mark_loaded(self, *, created: int) -> None:
        """Succeeded: rows written by a loader that ran in this process (the demo)."""
        self.status = ImportStatus.SUCCEEDED
        self.created = created
        self.finished_at = timezone.now()
        self.save(update_fields=["status", "created", "finished_at"])

    def _decide(self, status: str, **fields) -> bool:
        done = Import.objects.filter(pk=self.pk, status=ImportStatus.PREVIEWED).update(
            status=status, **fields
        )
        self.refresh_from_db()
        return bool(done)

    def approve(self) -> bool:
        """A previewed import goes back in the queue, to be applied this time."""
        return self._decide(ImportStatus.QUEUED, finished_at=None, attempts=0)

    def discard(self) -> bool:
        return self._decide(ImportStatus.DISCARDED, finished_at=timezone.now())

    def _while_dead(self):
        # Still running with the heartbeat the sweep saw: no worker has come back to it.
        return Import.objects.filter(
            pk=self.pk, status=ImportStatus.RUNNING, heartbeat_at=self.heartbeat_at
        )

    def requeue(self) -> bool:
        """Queued again after its worker died (its transaction died with it)."""
        return bool(self._while_dead().update(status=ImportStatus.QUEUED, phase=""))

    def give_up(self, message: str) -> bool:
        """Failed after its workers died once too often."""
        errors = [{"row": 0, "column": "", "message": message}]
        done = self._while_dead().update(
            status=ImportStatus.FAILED, errors=errors, finished_at=timezone.now(), phase=""
        )
        if done:
            self.refresh_from_db()
        return bool(done)

    @property
    def is_active(self) -> bool:
        """Still on its way: the page and the API keep polling."""
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def duration(self) -> timedelta | None:
        if self.finished_at is None or self.started_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def progress(self) -> float | None:
        """Share of the file's rows done, 0..1; None while the number of rows is unknown."""
        if self.status in (ImportStatus.SUCCEEDED, ImportStatus.PREVIEWED):
            return 1.0
        if not self.rows_total:
            return None
        return min(1.0, self.rows_done / self.rows_total)


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
        indexes = [models.Index(fields=["org_unit", "period"], name="measurement_unit_period")]

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

    # The status a reader sees: the override where set, else the computed one. This, its
    # per-breakdown form and effective_status() in SQL below are the only places saying so.
    @property
    def status(self) -> str:
        return self.override_status or self.computed_status

    def breakdown_status(self, breakdown: str) -> str:
        """The status shown on a breakdown's line; "" when that breakdown was not assessed."""
        computed = (self.details.get(breakdown) or {}).get("status") or ""
        return (self.override_status or computed) if computed else ""


def effective_status():
    """Assessment.status in SQL, to filter, count and group by what readers see."""
    from django.db.models import Value
    from django.db.models.functions import NullIf

    return Coalesce(NullIf(F("override_status"), Value("")), F("computed_status"))
