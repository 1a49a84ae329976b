"""Celery tasks of the indicators app: thin, an id in, a service call, the retry policy.

Delivery: acks_late + reject_on_worker_lost (settings), so a task whose worker dies is
delivered again; indicators.imports.run.run_import makes a second delivery harmless. The
services queue these by name (indicators.imports.queue.PROCESS_IMPORT_TASK).
"""

from __future__ import annotations

import contextlib
import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.worker.request import Request
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from .imports import inbox, run, sweep

logger = logging.getLogger(__name__)


class ImportRequest(Request):
    """At the hard time limit the pool kills the process running the import, which then
    cannot say why: the worker's main process says it instead."""

    def on_timeout(self, soft: bool, timeout: float) -> None:
        super().on_timeout(soft, timeout)
        if soft:
            return  # raised inside the task, which records it (process_import)
        try:
            run.stop_overdue(import_id=self.args[0], seconds=timeout, killed=True)
        except Exception:  # the main process must live on; the sweep tries later
            logger.exception("import %s: could not record its time limit", self.args)
        finally:
            connection.close()  # this thread's: the main process holds none between tasks


class ImportTask(Task):
    Request = ImportRequest


# The time limits are not the task's defaults but sent with each message (enqueue_import):
# defaults would be merged into every message by the sender, and an unset soft limit could
# not be sent as "none".
@shared_task(bind=True, base=ImportTask, max_retries=None)
def process_import(self, import_id: int) -> str | None:
    """Run one queued import (or its preview).

    A transient database error (connection lost, serialization failure, deadlock) is
    retried with a doubling pause, STYRKORT_IMPORT_DB_RETRIES times; then the import fails
    with a message for people. At the soft time limit the run is rolled back and the
    import failed, saying why; the hard limit kills the process (ImportRequest).
    """
    try:
        record = run.run_import(import_id=import_id)
    except SoftTimeLimitExceeded:
        # It may have struck mid-query, leaving the connection unusable: a new one.
        connection.close()
        _hard, soft = self.request.timelimit or (None, None)  # as sent (enqueue_import)
        seconds = soft or settings.STYRKORT_IMPORT_SOFT_TIME_LIMIT_SECONDS
        run.stop_overdue(import_id=import_id, seconds=seconds)
        return "failed"
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
