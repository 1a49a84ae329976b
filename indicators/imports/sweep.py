"""The sweep: what dead workers and lost messages leave behind, repaired every minute."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import Import, ImportSource, ImportStatus
from .inbox import file_away
from .queue import ImportQueueUnavailable, enqueue_import, expire_previews
from .run import MAX_ATTEMPTS, stop_overdue


def sweep_imports() -> dict[str, int]:
    """Repair what dead workers and lost messages leave behind (Celery beat, every minute).

    A running import whose worker stopped beating is queued again (its transaction died with
    the worker, so nothing of it is in the database), or failed after MAX_ATTEMPTS, or at
    once if it ran past the hard time limit (it would only be killed again). A queued
    import is sent again: one never sent (the broker was down when it came in) after
    STYRKORT_IMPORT_UNSENT_SECONDS, one whose message seems lost after
    STYRKORT_IMPORT_RESEND_SECONDS. A second message is harmless, since only one run can
    take an import; each send restarts the clock, so a long queue gets one per interval.
    Previews left undecided longer than STYRKORT_IMPORT_PREVIEW_HOURS are discarded.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.STYRKORT_IMPORT_STALE_SECONDS)
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    limit = settings.STYRKORT_IMPORT_TIME_LIMIT_SECONDS
    overdue = now - timedelta(seconds=limit) if limit else None
    dead = Import.objects.filter(status=ImportStatus.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
    )
    for record in dead:
        if overdue is not None and record.started_at < overdue:
            # Killed at the time limit, and the worker could not say so.
            stopped = stop_overdue(import_id=record.pk, seconds=limit, killed=True)
            if stopped is not None and stopped.status == ImportStatus.FAILED:
                counts["failed"] += 1
        elif record.attempts >= MAX_ATTEMPTS:
            message = (
                f"the worker stopped during this import {record.attempts} times (killed, or "
                "out of memory?); nothing was applied"
            )
            if record.give_up(message):
                counts["failed"] += 1
                if record.source == ImportSource.INBOX:
                    file_away(record)
        elif record.requeue():
            counts["requeued"] += 1
            _resend(record)
    resend = timedelta(seconds=settings.STYRKORT_IMPORT_RESEND_SECONDS)
    unsent = timedelta(seconds=settings.STYRKORT_IMPORT_UNSENT_SECONDS)
    lost = Import.objects.filter(status=ImportStatus.QUEUED).filter(
        Q(enqueued_at__lt=now - resend) | Q(enqueued_at__isnull=True, received_at__lt=now - unsent)
    )
    for record in lost:
        counts["resent"] += 1
        _resend(record)
    counts["expired"] = expire_previews()
    return counts


def _resend(record: Import) -> None:
    # Still down: it stays queued, and the next sweep tries again.
    with contextlib.suppress(ImportQueueUnavailable):
        enqueue_import(record)
