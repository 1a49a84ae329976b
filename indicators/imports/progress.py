"""Progress of a running import, written beside it while its transaction is open."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection as db_connection

from .. import bulk
from ..models import Import

logger = logging.getLogger(__name__)


class Progress:
    """Rows done, phase and a heartbeat of a running import, written as it runs.

    The import writes in one transaction, so anything it wrote itself would only show at
    the commit. A thread with its own connection (autocommit) writes them instead, every
    second; the heartbeat also tells the sweep that the worker is alive. Best effort: a
    failed write only delays the bar. Not on SQLite, which has one writer (the import holds
    it) and where imports run in the request anyway (the demo), so nobody could watch.
    """

    def __init__(self, record: Import) -> None:
        self.record_id = record.pk
        self.enabled = bulk.is_postgresql()
        # Not more often: each write is a new version of the row every new value points at.
        self.interval = settings.STYRKORT_IMPORT_PROGRESS_SECONDS
        self._pending: dict[str, object] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(
                target=self._run, name="styrkort-import-progress", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def update(self, **fields) -> None:
        with self._lock:
            self._pending.update(fields)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                with self._lock:
                    fields, self._pending = self._pending, {}
                try:
                    Import.beat(self.record_id, **fields)
                except Exception:  # a missed beat is retried in a second
                    logger.warning(
                        "import #%s: progress not written", self.record_id, exc_info=True
                    )
                    db_connection.close()  # a lost connection: a new one next time
        finally:
            db_connection.close()  # this thread's own connection
