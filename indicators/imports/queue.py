"""The import queue: receive a file, record it, hand it to a worker; decide on a preview.

The same file is applied once: sent again, it is recorded as a duplicate of the import that
holds it, unless it is sent again on purpose with a reason (A, then a correction B, then A
again to roll B back), which the audit trail keeps. A preview holds no file: anyone may
send the same file meanwhile; applying the preview afterwards is refused (or done on
purpose, again with a reason), and a preview left undecided expires.

Imports are queued by task name: the task module calls into this package, never the other
way round.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from celery import signature
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from audit.models import Source
from audit.services import Actor, record_change
from domain.exchange.format import RowError

from ..models import Import, ImportSource, ImportStatus
from .access import may_decide, may_import_again, stored_file_of
from .models import CLAIMS_ITS_FILE
from .reader import digest, row_estimate, too_large

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

PROCESS_IMPORT_TASK = "indicators.tasks.process_import"
# What a broker that is down or hangs raises, once kombu's publish retries are spent (redis
# timeouts are not OSErrors).
QUEUE_ERRORS: tuple[type[BaseException], ...] = (KombuOperationalError, OSError, RedisError)


class ImportQueueUnavailable(Exception):
    """The file was received and recorded (queued), but the task queue did not answer: the
    sweep sends it once the queue is back, so the sender need not send it again."""

    def __init__(self, record: Import) -> None:
        super().__init__(f"import #{record.pk}: the task queue could not be reached")
        self.record = record


class ImportRefused(Exception):
    """A decision on an import that cannot be carried out; the message is for people."""


def _holder_of(sha256: str, *, other_than: int | None = None) -> Import | None:
    """The import that holds the file: applied, or queued or running to be applied."""
    return (
        Import.objects.filter(CLAIMS_ITS_FILE, sha256=sha256)
        .exclude(source=ImportSource.DEMO)
        .exclude(pk=other_than)
        .order_by("pk")
        .first()
    )


def _audit_source(source: str) -> str:
    return Source.API if source == ImportSource.API else Source.IMPORT


def _record_sent_again(record: Import, remote_addr: str | None) -> None:
    """The audit trail keeps who sent a file again on purpose, and why."""
    original = record.reimport_of_id
    record_change(
        actor=Actor(user=record.user, source=_audit_source(record.source), remote_addr=remote_addr),
        obj=record,
        before=None,
        after={
            "filename": record.filename,
            "sha256": record.sha256,
            "reimport_of": original,
            "reason": record.reason,
            "preview": record.preview,
        },
        reference=f"import {record.pk}" + (f", again of import {original}" if original else ""),
    )


def receive_import(
    *,
    fileobj: BinaryIO,
    filename: str,
    user: AbstractBaseUser | None = None,
    source: str,
    preview: bool = False,
    reason: str = "",
    remote_addr: str | None = None,
) -> Import:
    """Record a file sent in and keep it for the worker (status queued).

    A file another import holds (applied, or on its way to be) is recorded as a failed
    duplicate pointing at it, and is not stored or applied again, unless `reason` says why
    it is sent again on purpose: then it is imported like any file, pointing at the holder,
    and the audit trail keeps the reason. A file over the size limit is recorded as failed
    at once.
    """
    reason = reason.strip()[:500]
    sha256, size, lines = digest(fileobj)
    name = Path(filename or "import.csv").name[:255]
    now = timezone.now()
    record = Import(
        filename=name,
        sha256=sha256,
        size=size,
        source=source,
        user=user,
        preview=preview,
        rows_total=row_estimate(fileobj, lines),
        received_at=now,
        started_at=now,
        reason=reason,
    )
    original = _holder_of(sha256)
    if original is not None and not reason:
        record.mark_duplicate(original)
        return record
    record.reimport_of = original
    limit = settings.STYRKORT_IMPORT_MAX_BYTES
    if size > limit:
        record.save()
        error = RowError(0, "", too_large(size, limit))
        record.fail([error])
        return record
    record.file.save(name, File(fileobj, name=name), save=False)
    try:
        with transaction.atomic():
            record.save()
            if reason:
                _record_sent_again(record, remote_addr)
    except IntegrityError:  # the same file, received by another request a moment ago
        record.file.delete(save=False)
        record.pk = None
        original = _holder_of(sha256)
        if original is None:
            raise
        record.mark_duplicate(original)
    return record


def enqueue_import(record: Import) -> None:
    """Hand a queued import to a worker; call it outside a transaction (the worker must see
    the record). A broker that is down or hangs answers within the broker timeouts
    (settings: STYRKORT_BROKER_TIMEOUT_SECONDS) with ImportQueueUnavailable; the record
    stays queued, unsent, and the sweep sends it when the broker is back."""
    # The time limits travel in the message, so the sender's settings decide (web, worker
    # and beat share them); None (0 in the settings) is no limit.
    limits = {
        "soft_time_limit": settings.STYRKORT_IMPORT_SOFT_TIME_LIMIT_SECONDS or None,
        "time_limit": settings.STYRKORT_IMPORT_TIME_LIMIT_SECONDS or None,
    }
    try:
        signature(PROCESS_IMPORT_TASK, args=(record.pk,)).apply_async(**limits)
    except QUEUE_ERRORS as exc:
        logger.warning("import #%s: task queue unavailable, left for the sweep: %s", record.pk, exc)
        raise ImportQueueUnavailable(record) from exc
    record.mark_enqueued()


def submit_import(
    *,
    fileobj: BinaryIO,
    filename: str,
    user: AbstractBaseUser | None = None,
    source: str,
    preview: bool = False,
    reason: str = "",
    remote_addr: str | None = None,
) -> Import:
    """Receive a file and queue it: the upload form, the API and the inbox come in here.
    `reason`: the file is sent again on purpose (see receive_import)."""
    record = receive_import(
        fileobj=fileobj,
        filename=filename,
        user=user,
        source=source,
        preview=preview,
        reason=reason,
        remote_addr=remote_addr,
    )
    if record.status == ImportStatus.QUEUED:
        enqueue_import(record)
        record.refresh_from_db()
    return record


def import_again(
    *,
    record: Import,
    user: AbstractBaseUser,
    reason: str,
    preview: bool = False,
    source: str = ImportSource.UPLOAD,
    remote_addr: str | None = None,
) -> Import:
    """Send the file of `record` again on purpose, saying why: a new import of the stored
    file (the one a duplicate pointed at, for a duplicate)."""
    if not may_import_again(user, record):
        raise PermissionDenied(f"{user} may not import the file of import #{record.pk} again")
    if not reason.strip():
        raise ImportRefused(_("Skriv varför filen ska importeras igen."))
    stored = stored_file_of(record)
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        raise ImportRefused(_("Den sparade filen saknas; skicka filen på nytt.")) from None
    with handle:
        return submit_import(
            fileobj=handle,
            filename=stored.filename,
            user=user,
            source=source,
            preview=preview,
            reason=reason,
            remote_addr=remote_addr,
        )


def preview_expiry() -> timedelta:
    return timedelta(hours=settings.STYRKORT_IMPORT_PREVIEW_HOURS)


def _expired_message() -> str:
    return _(
        "Förhandsgranskningen gick ut efter %(hours)s timmar utan beslut; inget skrevs. "
        "Skicka filen igen om den ska importeras."
    ) % {"hours": f"{settings.STYRKORT_IMPORT_PREVIEW_HOURS:g}"}


def expire_previews() -> int:
    """Discard the previews left undecided longer than STYRKORT_IMPORT_PREVIEW_HOURS (the
    sweep); how many."""
    return Import.expire_previews(
        previewed_before=timezone.now() - preview_expiry(), message=_expired_message()
    )


def apply_import(*, record: Import, user: AbstractBaseUser) -> Import:
    """Apply a previewed import (the user saw what it would change and said yes).

    Refused (ImportRefused) when the preview has expired, or when another import has taken
    the same file since: applying it now could roll a later correction back unseen. Sending
    the file again with a reason does that on purpose.
    """
    _ensure_may_decide(record, user)
    if record.status != ImportStatus.PREVIEWED:
        return record  # decided already (a second click)
    if record.previewed_at is not None and record.previewed_at < timezone.now() - preview_expiry():
        record.expire(_expired_message())
        raise ImportRefused(_expired_message())
    approved = False
    holder = None if record.reimport_of_id else _holder_of(record.sha256)
    if holder is None:
        try:
            with transaction.atomic():
                approved = record.approve()
        except IntegrityError:  # taken by another import a moment ago
            holder = _holder_of(record.sha256, other_than=record.pk)
            if holder is None:
                raise
            record.refresh_from_db()
    if holder is not None:
        message = _(
            "Samma fil har importerats sedan förhandsgranskningen (import %(id)s); den "
            "genomförs inte. Förkasta förhandsgranskningen, eller importera filen igen med "
            "ett skäl."
        )
        raise ImportRefused(message % {"id": holder.pk})
    if approved:
        enqueue_import(record)
        record.refresh_from_db()
    return record


def discard_import(*, record: Import, user: AbstractBaseUser) -> Import:
    """Drop a previewed import: nothing is written; the record stays, as discarded."""
    _ensure_may_decide(record, user)
    record.discard()
    return record


def _ensure_may_decide(record: Import, user: AbstractBaseUser) -> None:
    if not may_decide(user, record):
        raise PermissionDenied(f"{user} may not apply or discard import #{record.pk}")
