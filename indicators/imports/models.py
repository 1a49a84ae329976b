"""The import record: one received file, its state and what it did.

Its state changes are methods here (claim, succeed, fail, requeue, discard ...), so only
this model writes `status`; indicators/models.py imports it so that Django registers it
with the indicators app.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from domain.exchange.format import RowError
from domain.messages import Message, code_of


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("I kö")
    RUNNING = "running", _("Pågår")
    PREVIEWED = "previewed", _("Väntar på godkännande")
    SUCCEEDED = "succeeded", _("Klar")
    FAILED = "failed", _("Misslyckades")
    DISCARDED = "discarded", _("Förkastad")


# Row errors an import keeps, in file order; the count of all of them is kept beside them.
# A hostile file can hold millions, and every page and API answer showing the import would
# carry them all.
MAX_STORED_ERRORS = 1000
# ... and of each its column name and message this many characters: a message quotes the
# cell it is about, and a cell can be 128 KiB.
MAX_ERROR_TEXT = 300

# A file with one of these statuses is on its way in or in: the same file again is a
# duplicate, unless sent again on purpose (with a reason) or still a preview (see
# CLAIMS_ITS_FILE: a preview waiting for a decision blocks nobody).
ACTIVE_IMPORT_STATUSES = (
    ImportStatus.QUEUED,
    ImportStatus.RUNNING,
    ImportStatus.SUCCEEDED,
)


def _shortened(text: str) -> str:
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"


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


# An import that holds its file: applied, or queued or running to be applied. Not a
# preview waiting for a decision (once approved it holds it), nor a file sent again on
# purpose: those may be many.
CLAIMS_ITS_FILE = Q(status__in=ACTIVE_IMPORT_STATUSES, reimport_of__isnull=True) & ~Q(
    preview=True, previewed_at__isnull=True
)


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
    # Sent again on purpose (A, then a correction B, then A again to roll B back): the
    # import that holds the file, and why; in the audit trail too.
    reimport_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reimports",
        verbose_name=_("importerad igen från"),
    )
    reason = models.CharField(_("skäl"), max_length=500, blank=True)
    # The org unit whose subtree holds every row of the file (set when it is read): its
    # writers may download the file (indicators.imports.access).
    org_unit = models.ForeignKey(
        "divisions.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("organisationsenhet"),
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
    # The first MAX_STORED_ERRORS of error_count errors.
    errors = models.JSONField(_("fel"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("antal fel"), default=0)
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
                condition=Q(source__in=QUEUED_IMPORT_SOURCES) & CLAIMS_ITS_FILE,
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

    def _finish(
        self,
        status: str,
        errors: Iterable[RowError] = (),
        *,
        error_count: int = 0,
        **fields,
    ) -> None:
        """The final state; of `errors` the first MAX_STORED_ERRORS are kept and all counted
        (`error_count`: more were found than the caller kept)."""
        kept: list[dict] = []
        total = 0
        for error in errors:
            total += 1
            if total <= MAX_STORED_ERRORS:
                # The English message, and its code and parameters to say it in the
                # reader's language (indicators.messages).
                kept.append(
                    {
                        "row": error.row,
                        "column": _shortened(error.column),
                        "message": _shortened(error.message),
                        **_code(error.message),
                    }
                )
        self.status = status
        self.errors = kept
        self.error_count = max(total, error_count)
        self.finished_at = timezone.now()
        self.phase = ""
        for name, value in fields.items():
            setattr(self, name, value)
        self.save()

    def fail(self, errors: Iterable[RowError], **counts: int | None) -> None:
        """Failed, with why; `counts` may set rejected, rows_total and error_count."""
        self._finish(ImportStatus.FAILED, errors, **counts)

    def mark_previewed(self, *, preview_rows: dict[str, list[dict]], **counts: int | None) -> None:
        """Classified and rolled back; waits for someone to apply or discard it."""
        self._finish(
            ImportStatus.PREVIEWED,
            preview_rows=preview_rows,
            previewed_at=timezone.now(),
            **counts,
        )

    def mark_duplicate(self, original: "Import") -> None:
        """Saved failed at once, pointing at the first: the same file is not applied twice."""
        message = Message(
            "same_file",
            "the same file (SHA-256 {sha}…) was received as import #{pk} on {when}; "
            "it is not applied twice",
            sha=original.sha256[:12],
            pk=original.pk,
            when=f"{timezone.localtime(original.received_at):%Y-%m-%d %H:%M}",
        )
        self.duplicate_of = original
        self.preview = False
        self._finish(ImportStatus.FAILED, [RowError(0, "", message)])

    def succeed(
        self,
        *,
        created: int,
        changed: int,
        unchanged: int,
        rows_total: int,
        org_unit_id: int | None = None,
    ) -> bool:
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
                error_count=0,
                org_unit_id=org_unit_id,
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

    def release(self) -> bool:
        """Back in the queue after a transient database error (its transaction was rolled
        back): the retry takes it again, and the attempt does not count as a dead worker's."""
        return bool(
            Import.objects.filter(
                pk=self.pk, status=ImportStatus.RUNNING, attempts=self.attempts
            ).update(
                status=ImportStatus.QUEUED,
                attempts=F("attempts") - 1,
                heartbeat_at=None,
                phase="",
                rows_done=0,
            )
        )

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

    def expire(self, message: str) -> bool:
        """A preview left undecided too long: discarded, saying why."""
        return self._decide(
            ImportStatus.DISCARDED,
            finished_at=timezone.now(),
            errors=[{"row": 0, "column": "", "message": message}],
            error_count=1,
        )

    @classmethod
    def expire_previews(cls, *, previewed_before: datetime, message: str) -> int:
        """Discard every preview left undecided since before `previewed_before`."""
        return cls.objects.filter(
            status=ImportStatus.PREVIEWED, previewed_at__lt=previewed_before
        ).update(
            status=ImportStatus.DISCARDED,
            finished_at=timezone.now(),
            errors=[{"row": 0, "column": "", "message": message}],
            error_count=1,
        )

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
            status=ImportStatus.FAILED,
            errors=errors,
            error_count=len(errors),
            finished_at=timezone.now(),
            phase="",
        )
        if done:
            self.refresh_from_db()
        return bool(done)

    @classmethod
    def stop_running(cls, pk: int, message: str) -> bool:
        """Failed while running (a time limit stopped its worker); its transaction was
        rolled back, so nothing of it was applied. Only an import still running changes."""
        errors = [{"row": 0, "column": "", "message": message}]
        return bool(
            cls.objects.filter(pk=pk, status=ImportStatus.RUNNING).update(
                status=ImportStatus.FAILED,
                errors=errors,
                error_count=1,
                finished_at=timezone.now(),
                phase="",
            )
        )

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


def _code(message: str) -> dict:
    code, params = code_of(message)
    if not code:
        return {}
    # Parameters can quote the file (a bad value): bounded like the message itself.
    params = {k: _shortened(v) if isinstance(v, str) else v for k, v in (params or {}).items()}
    return {"code": code, "params": params}
