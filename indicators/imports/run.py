"""Running an import: read the file once, write it in one transaction, record the outcome.

Every way in ends in _execute: the command line and the demo through import_measurements,
here and now; the upload, the API and the inbox through the queue and run_import.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, BinaryIO

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import (
    MEASUREMENT_FIELDS,
    ImportedValue,
    measurement_values,
    plain,
    record_import,
)
from domain.exchange.format import FileRejected, RowError
from domain.messages import Message
from domain.numbers import plain_decimal

from .. import bulk
from ..models import (
    QUEUED_IMPORT_SOURCES,
    Import,
    ImportPhase,
    ImportSource,
    ImportStatus,
    Measurement,
    MeasurementRevision,
)
from ..recompute import recompute_assessments
from .inbox import file_away
from .progress import Progress
from .reader import Reader, Resolver, digest, rejection_errors, row_estimate, too_large

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

PREVIEW_SAMPLE = 200  # rows of each kind (new, changed) a preview lists
MAX_ATTEMPTS = 3  # a worker dying this often on one import marks it failed

# Worth trying again: a lost connection, a serialization failure, a deadlock (psycopg files
# the last two under OperationalError too). Anything else is a bug or bad data: retrying
# would fail the same way.
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)
# What people are told of an error of ours; the error itself goes to the log.
INTERNAL_ERROR = (
    "the import stopped on an internal error; nothing was applied. The administrators "
    "find the details in the log under import #{pk}"
)
DATABASE_GONE = (
    "the database could not be reached or kept breaking off the import ({attempts} tries); "
    "nothing was applied. Send the file again once the service is back"
)


def _internal_error(pk: int) -> Message:
    return Message("internal_error", INTERNAL_ERROR, pk=pk)


def _database_gone(attempts: int) -> Message:
    return Message("database_gone", DATABASE_GONE, attempts=attempts)


@dataclass
class ImportResult:
    record: Import
    created: int
    changed: int
    unchanged: int


class ImportRejected(Exception):
    """The file was refused as a whole; nothing was written. `errors` say where and why."""

    def __init__(self, record: Import, errors: list[RowError], rejected_rows: int) -> None:
        super().__init__(f"{rejected_rows} row(s) rejected")
        self.record = record
        self.errors = errors
        self.rejected_rows = rejected_rows


class ImportInterrupted(Exception):
    """A transient database error stopped the run; nothing was applied and the import is
    queued again (if the database let us say so): try again after a pause."""


class ImportBusy(Exception):
    """A worker is on this import, or died on it moments ago: try again in `retry_in` s."""

    def __init__(self, retry_in: int) -> None:
        super().__init__(f"import is running elsewhere; retry in {retry_in} s")
        self.retry_in = retry_in


class _Waiting(Exception):
    """An import received earlier is still to be applied: this one must wait its turn."""

    def __init__(self, earlier: int) -> None:
        super().__init__(f"import #{earlier} was received earlier and is not applied yet")
        self.earlier = earlier


class _Superseded(Exception):
    """Another attempt took the import over while this one ran: this one must not commit."""


class _RolledBack(Exception):
    """Raised inside the import transaction to undo it: a rejected file or a preview."""


def import_measurements(
    *,
    fileobj: BinaryIO,
    filename: str,
    user: AbstractBaseUser | None = None,
    source: str = ImportSource.COMMAND,
) -> ImportResult:
    """Validate a whole measurement file and upsert it in one transaction, here and now.

    Any bad row rejects the file: ImportRejected lists each as 'row N, column C: reason' and
    nothing is written but the failed Import record. Re-importing the same content changes
    nothing (0 created, 0 changed). The queued ways in (upload, API, inbox) go through
    submit_import and run_import instead; all of them end in _execute.
    """
    sha256, size, lines = digest(fileobj)
    record = Import.start(
        filename=filename,
        sha256=sha256,
        size=size,
        source=source,
        user=user,
        rows_total=row_estimate(fileobj, lines),
    )
    try:
        return _execute(record, fileobj, preview=False)
    except TRANSIENT_DATABASE_ERRORS:
        logger.exception("import #%s: the database broke off", record.pk)
        connection.close()
        record.fail([RowError(0, "", _database_gone(1))])
        raise


def _execute(record: Import, fileobj: BinaryIO, *, preview: bool) -> ImportResult:
    """Read the file once and write it in one transaction (or only classify it, for a
    preview, and roll back). Records the outcome; raises ImportRejected for a bad file."""
    limit = settings.STYRKORT_IMPORT_MAX_BYTES
    if record.size > limit:
        error = RowError(0, "", too_large(record.size, limit))
        record.fail([error], rejected=0)
        raise ImportRejected(record, [error], 0)
    reader = Reader(fileobj, record.filename, Resolver(record.user))
    outcome = _Outcome()
    try:
        with Progress(record) as progress:
            try:
                with transaction.atomic():
                    _write(record, reader, outcome, progress, preview=preview)
                    progress.stop()  # its row must be free for the final update below
                    if preview:
                        raise _RolledBack  # a preview writes nothing
                    _succeed(record, reader, outcome)
            except _RolledBack:
                pass
    except FileRejected as exc:
        errors = rejection_errors(exc)
        record.fail(errors, rejected=0)
        raise ImportRejected(record, errors, 0) from None
    except _Waiting:
        raise
    except _Superseded:
        record.refresh_from_db()
        return ImportResult(record, record.created, record.changed, record.unchanged)
    except TRANSIENT_DATABASE_ERRORS:
        raise  # the caller decides: run_import retries, the command line gives up
    except SoftTimeLimitExceeded:
        raise  # rolled back; the task records why (stop_overdue)
    except Exception:
        logger.exception("import #%s failed", record.pk)
        record.fail([RowError(0, "", _internal_error(record.pk))])
        raise
    if reader.errors:
        reader.name_duplicates()
        record.fail(
            reader.errors,
            rejected=reader.rejected,
            rows_total=reader.rows_total,
            error_count=reader.error_count,
            org_unit_id=reader.org_unit_id(),
        )
        raise ImportRejected(record, reader.errors, reader.rejected)
    if preview:
        record.mark_previewed(
            created=outcome.created,
            changed=outcome.changed,
            unchanged=outcome.unchanged,
            rows_total=reader.rows_total,
            preview_rows=_preview_rows(reader.resolver, outcome),
            org_unit_id=reader.org_unit_id(),
        )
    else:
        record.refresh_from_db()
    return ImportResult(record, outcome.created, outcome.changed, outcome.unchanged)


@dataclass
class _Outcome:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    touched: set[tuple[int, int]] = field(default_factory=set)
    periods: set[tuple[int, str]] = field(default_factory=set)  # (indicator, period) written
    new_sample: list[tuple] = field(default_factory=list)
    changed_sample: list[tuple] = field(default_factory=list)


def _write(
    record: Import, reader: Reader, outcome: _Outcome, progress: Progress, *, preview: bool
) -> None:
    """Inside the import's transaction: stage, classify and (unless previewing) merge each
    chunk as the reader thread delivers it, then recompute what changed."""
    if not preview:
        bulk.serialise_imports()
        # Under the lock, so that of two imports the earlier always gets here first in the
        # end: applied in the order received, whatever order their messages came in.
        earlier = _earlier_pending(record)
        if earlier is not None:
            raise _Waiting(earlier)
    stage = bulk.MeasurementStage()
    now = timezone.now()
    chunks = reader.chunks(import_id=record.pk, user_id=record.user_id, now=now)
    background = bulk.in_background(chunks, name="styrkort-import-reader", stop=reader.stopped)
    for chunk in background:
        if reader.errors:
            progress.update(rows_done=chunk.rows_read)
            continue  # rejected: keep reading for the full list of errors, write nothing
        if not preview and stage.insert_if_all_new(chunk.data):
            outcome.created += chunk.rows
            outcome.touched |= chunk.pairs
            outcome.periods |= chunk.periods
            progress.update(rows_done=chunk.rows_read)
            continue
        stage.load(chunk.data)
        counts = stage.classify()
        outcome.created += counts.created
        outcome.changed += counts.changed
        outcome.unchanged += counts.unchanged
        if preview:
            if len(outcome.new_sample) < PREVIEW_SAMPLE and counts.created:
                outcome.new_sample += stage.sample_created(PREVIEW_SAMPLE - len(outcome.new_sample))
            if len(outcome.changed_sample) < PREVIEW_SAMPLE and counts.changed:
                outcome.changed_sample += stage.sample_changed(
                    PREVIEW_SAMPLE - len(outcome.changed_sample)
                )
        elif counts.created or counts.changed:
            outcome.touched |= stage.merge(import_id=record.pk, now=now)
            outcome.periods |= stage.merged_periods()
        progress.update(rows_done=chunk.rows_read)
    progress.update(rows_done=reader.rows_total, rows_total=reader.rows_total)
    if reader.errors:
        raise _RolledBack
    if outcome.touched:
        progress.update(phase=ImportPhase.RECOMPUTING)
        recompute_assessments(pairs=outcome.touched, periods=outcome.periods)
    if not preview and outcome.changed:
        _record_changed_values(record, reader.resolver)


def _earlier_pending(record: Import) -> int | None:
    """An import through the queue received before this one and still to be applied."""
    if record.source not in QUEUED_IMPORT_SOURCES:
        return None
    return (
        Import.objects.filter(
            pk__lt=record.pk,
            status__in=(ImportStatus.QUEUED, ImportStatus.RUNNING),
            source__in=QUEUED_IMPORT_SOURCES,
        )
        .exclude(preview=True, previewed_at__isnull=True)  # a preview writes nothing
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def _record_changed_values(record: Import, resolver: Resolver) -> None:
    """Audit each value the import replaced, with before and after.

    New values are traced by their own source_import/source_row, so a million-row first
    import does not also write a million audit entries.
    """
    replaced = MeasurementRevision.objects.filter(replaced_by_import=record).select_related(
        "measurement"
    )
    # A worker lives for days: content-type ids it cached before a database restore (or a
    # test's flush) would break the audit entry's foreign key, so look them up afresh.
    ContentType.objects.clear_cache()
    record_import(
        import_record=record,
        user=record.user,
        content_type=ContentType.objects.get_for_model(Measurement),
        indicator_codes=resolver.indicator_codes,
        unit_codes=resolver.unit_codes,
        values=(  # a generator: written one batch at a time, never all held at once
            ImportedValue(
                measurement_id=old.measurement_id,
                indicator_id=old.measurement.indicator_id,
                org_unit_id=old.measurement.org_unit_id,
                period=old.measurement.period,
                breakdown=old.measurement.breakdown,
                row=old.measurement.source_row,
                before={name: plain(getattr(old, name)) for name in MEASUREMENT_FIELDS},
                after=measurement_values(old.measurement),
            )
            for old in replaced.iterator(chunk_size=2000)
        ),
    )


def _succeed(record: Import, reader: Reader, outcome: _Outcome) -> None:
    """The final status, in the import's own transaction: data and record commit together.

    Guarded by the attempt number: if the import was taken over (this worker was thought
    dead), this attempt's work is rolled back rather than committed twice.
    """
    if not record.succeed(
        created=outcome.created,
        changed=outcome.changed,
        unchanged=outcome.unchanged,
        rows_total=reader.rows_total,
        org_unit_id=reader.org_unit_id(),
    ):
        raise _Superseded


def _preview_rows(resolver: Resolver, outcome: _Outcome) -> dict[str, list[dict]]:
    indicators, units = resolver.indicator_codes, resolver.unit_codes

    def plain(number) -> str | None:
        return None if number is None else plain_decimal(number)

    return {
        "created": [
            {
                "row": row,
                "indicator": indicators.get(indicator_id, ""),
                "org_unit": units.get(unit_id, ""),
                "period": period,
                "breakdown": breakdown,
                "value": plain(value),
                "comment": comment,
            }
            for row, indicator_id, unit_id, period, breakdown, value, comment in outcome.new_sample
        ],
        "changed": [
            {
                "row": row,
                "indicator": indicators.get(indicator_id, ""),
                "org_unit": units.get(unit_id, ""),
                "period": period,
                "breakdown": breakdown,
                "old_value": plain(old),
                "value": plain(new),
                "old_comment": old_comment,
                "comment": comment,
            }
            for row, indicator_id, unit_id, period, breakdown, old, new, old_comment, comment in (
                outcome.changed_sample
            )
        ],
    }


def run_import(*, import_id: int) -> Import | None:
    """The worker's side: take the import, run it (or its preview), record the outcome.

    Safe to run twice for one import (a redelivered message): only a queued import, or a
    running one whose worker stopped beating, is taken; anything else is left as it is.
    Raises ImportBusy while another worker may still be on it.
    """
    stale = timezone.now() - timedelta(seconds=settings.STYRKORT_IMPORT_STALE_SECONDS)
    taken = Import.claim(import_id, worker=_worker_name(), stale_before=stale)
    record = Import.objects.filter(pk=import_id).select_related("user").first()
    if record is None:
        logger.warning("import #%s does not exist (any more)", import_id)
        return None
    if not taken:
        if record.status == ImportStatus.RUNNING:
            raise ImportBusy(retry_in=settings.STYRKORT_IMPORT_STALE_SECONDS)
        return record  # done, failed, previewed or discarded: a redelivered message
    if record.attempts > MAX_ATTEMPTS:
        message = Message(
            "worker_stopped",
            "the worker stopped during this import {times} times (killed, or out of memory?); "
            "nothing was applied",
            times=record.attempts - 1,
        )
        record.fail([RowError(0, "", message)])
    else:
        preview = record.preview and record.previewed_at is None
        try:
            with record.file.open("rb") as handle:
                _execute(record, handle, preview=preview)
        except ImportRejected:
            pass  # recorded: a bad file is an outcome, not a task failure
        except FileNotFoundError:
            message = Message(
                "file_missing", "the stored file is missing; nothing was imported, send it again"
            )
            record.fail([RowError(0, "", message)])
        except _Waiting as exc:
            logger.info("import #%s waits its turn: %s", import_id, exc)
            record.release()
            raise ImportBusy(retry_in=settings.STYRKORT_IMPORT_ORDER_RETRY_SECONDS) from None
        except TRANSIENT_DATABASE_ERRORS as exc:
            logger.warning("import #%s: the database broke off: %s", import_id, exc)
            _release(record)
            raise ImportInterrupted(str(exc)) from exc
        except SoftTimeLimitExceeded:
            raise
        except Exception:  # recorded by _execute; the task must not fail into a retry loop
            pass
        record.refresh_from_db()
    if record.source == ImportSource.INBOX and record.status in (
        ImportStatus.SUCCEEDED,
        ImportStatus.FAILED,
    ):
        file_away(record)
    return record


def _release(record: Import) -> None:
    connection.close()  # broken: the next query opens a new one
    try:
        record.release()
    except TRANSIENT_DATABASE_ERRORS:
        # Still away: the record stays running until its heartbeat is stale, then the retry
        # (or the sweep) takes it over.
        logger.warning("import #%s: could not be queued again yet", record.pk)
        connection.close()


def give_up_interrupted(*, import_id: int, attempts: int) -> Import | None:
    """The database broke off this import on every retry: failed, with why, for people."""
    record = Import.objects.filter(pk=import_id).first()
    if record is None or record.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return record
    record.fail([RowError(0, "", _database_gone(attempts))])
    if record.source == ImportSource.INBOX:
        file_away(record)
    return record


def stop_overdue(*, import_id: int, seconds: float, killed: bool = False) -> Import | None:
    """The import ran past its time limit and was stopped (rolled back, or its worker
    process killed at the hard limit): failed, saying so, for people."""
    if killed:
        message = _(
            "Importen stoppades när den nått tidsgränsen (%(seconds)s s); inget skrevs. Dela "
            "upp filen i mindre delar och skicka dem var för sig."
        )
    else:
        message = _(
            "Importen tog längre tid än gränsen på %(seconds)s s och avbröts; inget skrevs. "
            "Dela upp filen i mindre delar och skicka dem var för sig."
        )
    message %= {"seconds": f"{seconds:g}"}
    if not Import.stop_running(import_id, message):
        return Import.objects.filter(pk=import_id).first()  # finished before the limit
    logger.warning("import #%s stopped at its time limit (%s s)", import_id, seconds)
    record = Import.objects.get(pk=import_id)
    if record.source == ImportSource.INBOX:
        file_away(record)
    return record


def _worker_name() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"[:200]
