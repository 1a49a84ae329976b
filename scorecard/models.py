from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from divisions.models import OrgUnit
from domain.periods import PERIOD_REGEX
from domain.rules import Status


class StatusChoices(models.TextChoices):
    FULFILLED = Status.FULFILLED, _("Uppfyllt")
    PARTLY = Status.PARTLY, _("Delvis uppfyllt")
    NOT_FULFILLED = Status.NOT_FULFILLED, _("Ej uppfyllt")
    NO_DATA = Status.NO_DATA, _("Uppgift saknas")
    NOT_ASSESSED = Status.NOT_ASSESSED, _("Följs upp")


class Perspective(models.Model):
    """One of the five perspectives, in the fixed order Samhälle .. Ekonomi."""

    code = models.SlugField(_("kod"), max_length=64, unique=True)
    name = models.CharField(_("namn"), max_length=100)
    description = models.TextField(_("beskrivning"), blank=True)
    order = models.PositiveSmallIntegerField(_("ordning"))

    class Meta:
        verbose_name = _("perspektiv")
        verbose_name_plural = _("perspektiv")
        ordering = ["order"]
        constraints = [
            # A balanced scorecard has exactly five perspectives; the loader keeps them
            # distinct (a unique order would make reordering a two-step dance).
            models.CheckConstraint(
                condition=Q(order__gte=1, order__lte=5), name="perspective_order_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StrategicGoal(models.Model):
    code = models.SlugField(_("kod"), max_length=64, unique=True)
    perspective = models.ForeignKey(
        Perspective,
        verbose_name=_("perspektiv"),
        on_delete=models.PROTECT,
        related_name="strategic_goals",
    )
    name = models.CharField(_("namn"), max_length=300)
    order = models.PositiveIntegerField(_("ordning"), default=0)

    class Meta:
        verbose_name = _("strategiskt mål")
        verbose_name_plural = _("strategiska mål")
        ordering = ["perspective__order", "order", "pk"]

    def __str__(self) -> str:
        return self.name


class Scorecard(models.Model):
    """One org unit's scorecard (styrkort) from `year` until the unit's next one.

    Perspectives and strategic goals are the region's; the success factors and the placed
    indicators (indicators.Placement) are this scorecard's own, so that loading another
    unit's or another year's scorecard never changes this one. Units without a scorecard of
    their own follow the nearest one above them.
    """

    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="scorecards",
        verbose_name=_("organisationsenhet"),
    )
    year = models.PositiveSmallIntegerField(_("från år"))
    name = models.CharField(_("namn"), max_length=300, blank=True)
    source = models.CharField(_("källa"), max_length=300, blank=True)
    loaded_at = models.DateTimeField(_("inläst"), null=True, blank=True)

    class Meta:
        verbose_name = _("styrkort")
        verbose_name_plural = _("styrkort")
        ordering = ["org_unit__path", "year"]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "year"], name="scorecard_unit_year"),
            models.CheckConstraint(
                condition=Q(year__gte=1900, year__lte=2999), name="scorecard_year_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.org_unit} {self.year}"


class SuccessFactor(models.Model):
    """One of a scorecard's own goals (framgångsfaktor) under a regional strategic goal."""

    scorecard = models.ForeignKey(
        Scorecard,
        verbose_name=_("styrkort"),
        on_delete=models.CASCADE,
        related_name="success_factors",
    )
    code = models.SlugField(_("kod"), max_length=64)
    strategic_goal = models.ForeignKey(
        StrategicGoal,
        verbose_name=_("strategiskt mål"),
        on_delete=models.PROTECT,
        related_name="success_factors",
    )
    name = models.CharField(_("namn"), max_length=300)
    order = models.PositiveIntegerField(_("ordning"), default=0)

    class Meta:
        verbose_name = _("framgångsfaktor")
        verbose_name_plural = _("framgångsfaktorer")
        ordering = ["strategic_goal__perspective__order", "strategic_goal__order", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "code"], name="successfactor_unique_code")
        ]

    def __str__(self) -> str:
        return self.name


class PerspectiveAssessment(models.Model):
    """The manager's overall assessment (samlad bedömning) of a perspective for a period."""

    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, verbose_name=_("organisationsenhet")
    )
    perspective = models.ForeignKey(
        Perspective, on_delete=models.PROTECT, verbose_name=_("perspektiv")
    )
    period = models.CharField(_("period"), max_length=7)
    status = models.CharField(_("måluppfyllelse"), max_length=16, choices=StatusChoices.choices)
    text = models.TextField(_("samlad bedömning"), blank=True)
    # Why the judged status differs from the computed roll-up of the perspective's
    # indicators (required by the form when they differ; the region's own practice).
    justification = models.TextField(_("motivering"), blank=True, default="")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("ändrad av"),
    )
    updated_at = models.DateTimeField(_("ändrad"), auto_now=True)

    class Meta:
        verbose_name = _("samlad bedömning")
        verbose_name_plural = _("samlade bedömningar")
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit", "perspective", "period"], name="perspectiveassessment_unique"
            ),
            models.CheckConstraint(
                condition=Q(period__regex=PERIOD_REGEX), name="perspectiveassessment_valid_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.org_unit} {self.perspective} {self.period}"


class ActionStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Ej påbörjad")
    ONGOING = "ongoing", _("Pågår")
    DONE = "done", _("Klar")
    PAUSED = "paused", _("Pausad")
    UNKNOWN = "", _("Ej angiven")


class Action(models.Model):
    """A strategic action (strategisk åtgärd) in an org unit's action plan.

    An action belongs to the plan of one report period (`period`: the report in which it was
    set or followed up) and is frozen with that period when it closes; an action without a
    period is an older row of the unit's living plan and is shown in every period. The
    indicators it addresses are indicators.Indicator.actions (`action.indicators`), kept on
    the catalogue's side so that this layer does not import that one.
    """

    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, verbose_name=_("organisationsenhet")
    )
    perspective = models.ForeignKey(
        Perspective, on_delete=models.PROTECT, verbose_name=_("perspektiv")
    )
    success_factor = models.ForeignKey(
        SuccessFactor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("framgångsfaktor"),
    )
    number = models.CharField(_("nr"), max_length=16, blank=True)
    goal = models.TextField(_("mål"))
    description = models.TextField(_("åtgärd"))
    status = models.CharField(
        _("status"), max_length=16, choices=ActionStatus.choices, blank=True, default=""
    )
    comment = models.TextField(_("kommentar"), blank=True)
    owner = models.CharField(_("ansvarig"), max_length=200, blank=True)
    due_date = models.DateField(_("klart senast"), null=True, blank=True)
    period = models.CharField(_("period"), max_length=7, blank=True, default="")
    updated_at = models.DateTimeField(_("ändrad"), auto_now=True)

    class Meta:
        verbose_name = _("åtgärd")
        verbose_name_plural = _("åtgärder")
        ordering = ["perspective__order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period="") | Q(period__regex=PERIOD_REGEX),
                name="action_valid_period",
            ),
        ]
        indexes = [models.Index(fields=["org_unit", "period"], name="action_unit_period")]

    def __str__(self) -> str:
        return self.goal[:80]

    @property
    def addressed_names(self) -> list[str]:
        """Names of the indicators it addresses (prefetch `indicators` for a list of them)."""
        return [indicator.name for indicator in self.indicators.all()]

    @property
    def is_open(self) -> bool:
        """Not done: what the completeness board counts as an action addressing an indicator."""
        return self.status != ActionStatus.DONE


class PeriodClose(models.Model):
    """A report period closed for an org unit and everything under it.

    Reopening keeps the row (reopened_by/at) so that the history of closes stays; at most one
    close per unit and period is in force at a time.
    """

    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="period_closes",
        verbose_name=_("organisationsenhet"),
    )
    period = models.CharField(_("period"), max_length=7)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("stängd av"),
    )
    closed_at = models.DateTimeField(_("stängd"))
    reason = models.TextField(_("motivering"), blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("öppnad av"),
    )
    reopened_at = models.DateTimeField(_("öppnad igen"), null=True, blank=True)
    reopen_reason = models.TextField(_("motivering för att öppna igen"), blank=True)

    class Meta:
        verbose_name = _("stängd period")
        verbose_name_plural = _("stängda perioder")
        ordering = ["-closed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit", "period"],
                condition=Q(reopened_at__isnull=True),
                name="periodclose_one_in_force",
            ),
            models.CheckConstraint(
                condition=Q(period__regex=PERIOD_REGEX), name="periodclose_valid_period"
            ),
            models.CheckConstraint(
                condition=Q(reopened_at__isnull=True) | Q(reopened_at__gte=models.F("closed_at")),
                name="periodclose_reopened_after_close",
            ),
            # Reopening a final report is an administrator's act with a stated reason.
            models.CheckConstraint(
                condition=Q(reopened_at__isnull=True) | ~Q(reopen_reason=""),
                name="periodclose_reopen_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.org_unit} {self.period}"

    @property
    def in_force(self) -> bool:
        return self.reopened_at is None


class FrozenReport(models.Model):
    """What one org unit's report showed when its period was closed (dashboard.freezing).

    Written once, in the transaction of the close, for the closed unit and every unit under
    it; never changed. Pages, files, the `report` command and the API show this content
    while the close is in force, and compare against it after a reopening. The content is
    the read side's own format (dashboard.snapshot), kept here so that the close check
    (scorecard.closing) knows which units a close froze even after one of them moved.
    """

    close = models.ForeignKey(
        PeriodClose,
        on_delete=models.PROTECT,
        related_name="frozen_reports",
        verbose_name=_("stängning"),
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="frozen_reports",
        verbose_name=_("organisationsenhet"),
    )
    content = models.JSONField(_("innehåll"))
    created_at = models.DateTimeField(_("fastställd"))

    class Meta:
        verbose_name = _("fastställd rapport")
        verbose_name_plural = _("fastställda rapporter")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["close", "org_unit"], name="frozenreport_once"),
        ]

    def __str__(self) -> str:
        return f"{self.org_unit} {self.close.period}"


class ReportingDeadline(models.Model):
    """When the report of a period is due, set by an administrator (scorecard.deadlines).

    The managers of every division whose report is incomplete get a reminder
    `remind_days_before` days before `due_date` and one on the day (reporting.reminders).
    """

    period = models.CharField(_("period"), max_length=7, unique=True)
    due_date = models.DateField(_("sista dag"))
    remind_days_before = models.PositiveSmallIntegerField(
        _("påminn dagar före"),
        default=7,
        help_text=_("Påminnelsen skickas så många dagar före sista dagen, och på dagen."),
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("satt av"),
    )
    updated_at = models.DateTimeField(_("ändrad"), auto_now=True)

    class Meta:
        verbose_name = _("tidsfrist")
        verbose_name_plural = _("tidsfrister")
        ordering = ["due_date", "period"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period__regex=PERIOD_REGEX), name="reportingdeadline_valid_period"
            ),
            models.CheckConstraint(
                condition=Q(remind_days_before__lte=60), name="reportingdeadline_remind_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.due_date:%Y-%m-%d}"


class ReminderKind(models.TextChoices):
    BEFORE = "before", _("Före sista dagen")
    DUE = "due", _("På sista dagen")


class ReminderSent(models.Model):
    """A reminder sent for a deadline to one division's managers: each (deadline, division,
    kind) once, however often the daily task runs."""

    deadline = models.ForeignKey(
        ReportingDeadline,
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("tidsfrist"),
    )
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("organisationsenhet")
    )
    kind = models.CharField(_("typ"), max_length=8, choices=ReminderKind.choices)
    due_date = models.DateField(_("sista dag"))  # the deadline's date when it was sent
    recipients = models.JSONField(_("mottagare"), default=list)
    missing = models.PositiveIntegerField(_("saknas"))
    sent_at = models.DateTimeField(_("skickad"))

    class Meta:
        verbose_name = _("skickad påminnelse")
        verbose_name_plural = _("skickade påminnelser")
        ordering = ["-sent_at", "-pk"]
        constraints = [
            # A moved deadline is a new due date: its reminders go out again.
            models.UniqueConstraint(
                fields=["deadline", "org_unit", "kind", "due_date"], name="remindersent_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deadline} {self.org_unit} {self.kind}"
