"""The import queue: receive a file, record it, hand it to a worker; decide on a preview.

Imports are queued by task name: the task module calls into this package, never the other
way round.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from celery import signature
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from divisions.access import is_administrator
from domain.exchange.format import RowError

from ..models import ACTIVE_IMPORT_STATUSES, Import, ImportSource, ImportStatus
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


def _duplicate_of(sha256: str) -> Import | None:
    return (
        Import.objects.filter(sha256=sha256, status__in=ACTIVE_IMPORT_STATUSES)
        .exclude(source=ImportSource.DEMO)
        .order_by("pk")
        .first()
    )


def receive_import(
    *,
    fileobj: BinaryIO,
    filename: str,
    user: AbstractBaseUser | None = None,
    source: str,
    preview: bool = False,
) -> Import:
    """Record a file sent in and keep it for the worker (status queued).

    A file already received (same SHA-256, and not failed or discarded) is recorded as a
    failed duplicate pointing at the first, and is not stored or applied again. A file over
    the size limit is recorded as failed at once.
    """
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
    )
    original = _duplicate_of(sha256)
    if original is not None:
        record.mark_duplicate(original)
        return record
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
    except IntegrityError:  # the same file, received by another request a moment ago
        record.file.delete(save=False)
        record.pk = None
        original = _duplicate_of(sha256)
        if original is None:
            raise
        record.mark_duplicate(original)
    return record


def enqueue_import(record: Import) -> None:
    """Hand a queued import to a worker; call it outside a transaction (the worker must see
    the record). A broker that is down or hangs answers within the broker timeouts
    (settings: STYRKORT_BROKER_TIMEOUT_SECONDS) with ImportQueueUnavailable; the record
    stays queued, unsent, and the sweep sends it when the broker is back."""
    try:
        signature(PROCESS_IMPORT_TASK, args=(record.pk,)).delay()
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
) -> Import:
    """Receive a file and queue it: the upload form, the API and the inbox come in here."""
    record = receive_import(
        fileobj=fileobj, filename=filename, user=user, source=source, preview=preview
    )
    if record.status == ImportStatus.QUEUED:
        enqueue_import(record)
        record.refresh_from_db()
    return record


def apply_import(*, record: Import, user: AbstractBaseUser) -> Import:
    """Apply a previewed import (the user saw what it would change and said yes)."""
    _ensure_may_decide(record, user)
    if record.approve():
        enqueue_import(record)
        record.refresh_from_db()
    return record


def discard_import(*, record: Import, user: AbstractBaseUser) -> Import:
    """Drop a previewed import: nothing is written; the record stays, as discarded."""
    _ensure_may_decide(record, user)
    record.discard()
    return record


def _ensure_may_decide(record: Import, user: AbstractBaseUser) -> None:
    # Whoever sent the file decides, or an administrator; the rows were checked against the
    # sender's rights, and are again when applied.
    if not (is_administrator(user) or (record.user_id is not None and record.user_id == user.pk)):
        raise PermissionDenied(f"{user} may not apply or discard import #{record.pk}")
