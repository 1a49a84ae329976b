"""Celery tasks of the indicators app: thin, an id in and a service call (STYLE.md).

Delivery: acks_late + reject_on_worker_lost (settings), so a task whose worker dies is
delivered again; indicators.services.run_import makes a second delivery harmless.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import inbox, services


@shared_task(bind=True, max_retries=20)
def process_import(self, import_id: int) -> str | None:
    """Run one queued import (or its preview)."""
    try:
        record = services.run_import(import_id=import_id)
    except services.ImportBusy as exc:
        # Another worker holds it, or one died on it moments ago: look again once its
        # heartbeat would have gone stale.
        raise self.retry(countdown=exc.retry_in) from None
    except (OperationalError, InterfaceError) as exc:  # the database went away: try later
        raise self.retry(exc=exc, countdown=30) from None
    return record.status if record else None


@shared_task
def scan_import_inbox() -> int:
    """Celery beat: take the files in the inbox folder (STYRKORT_IMPORT_INBOX)."""
    return len(inbox.scan_inbox())


@shared_task
def sweep_imports() -> dict[str, int]:
    """Celery beat: requeue or fail imports whose worker died, resend lost messages."""
    return services.sweep_imports()
