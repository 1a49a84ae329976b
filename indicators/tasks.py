"""Celery tasks of the indicators app: thin, an id in, a service call, the retry policy.

Delivery: acks_late + reject_on_worker_lost (settings), so a task whose worker dies is
delivered again; indicators.imports.run.run_import makes a second delivery harmless. The
services queue these by name (indicators.imports.queue.PROCESS_IMPORT_TASK).
"""

from __future__ import annotations

import contextlib

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from .imports import inbox, run, sweep


@shared_task(bind=True, max_retries=None)
def process_import(self, import_id: int) -> str | None:
    """Run one queued import (or its preview).

    A transient database error (connection lost, serialization failure, deadlock) is
    retried with a doubling pause, STYRKORT_IMPORT_DB_RETRIES times; then the import fails
    with a message for people.
    """
    try:
        record = run.run_import(import_id=import_id)
    except run.ImportBusy as exc:
        # Another worker holds it, or one died on it moments ago: look again once its
        # heartbeat would have gone stale.
        raise self.retry(countdown=exc.retry_in) from None
    except (run.ImportInterrupted, OperationalError, InterfaceError):
        tries = self.request.retries + 1
        if tries > settings.STYRKORT_IMPORT_DB_RETRIES:
            # Still away: the record stays running, and the sweep takes it up later.
            with contextlib.suppress(OperationalError, InterfaceError):
                run.give_up_interrupted(import_id=import_id, attempts=tries)
            return "failed"
        pause = settings.STYRKORT_IMPORT_DB_RETRY_SECONDS * 2 ** (tries - 1)
        raise self.retry(countdown=min(pause, 300)) from None
    return record.status if record else None


@shared_task
def scan_import_inbox() -> int:
    """Celery beat: take the files in the inbox folder (STYRKORT_IMPORT_INBOX)."""
    return len(inbox.scan_inbox())


@shared_task
def sweep_imports() -> dict[str, int]:
    """Celery beat: requeue or fail imports whose worker died, resend lost messages."""
    return sweep.sweep_imports()
