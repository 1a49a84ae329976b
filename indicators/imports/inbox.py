"""The inbox folder: source systems drop measurement files, Celery beat picks them up.

    <inbox>/values.csv                   dropped by a source system
    <inbox>/processing/<id>_values.csv   taken: import #<id> is queued or running
    <inbox>/done/<id>_values.csv         succeeded, beside <id>_values.csv.report.txt
    <inbox>/failed/<id>_values.csv       failed (bad rows, duplicate, ...), beside its report

A file is taken only when it has not changed for STYRKORT_IMPORT_INBOX_SETTLE_SECONDS, so a
file still being copied in is left alone. Names starting with "." are ignored (the usual
way to write a file under a temporary name and rename it when complete).
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ..models import Import, ImportSource, ImportStatus
from .queue import ImportQueueUnavailable, enqueue_import, receive_import

logger = logging.getLogger(__name__)

PROCESSING, DONE, FAILED = "processing", "done", "failed"


def inbox_root() -> Path | None:
    path = settings.STYRKORT_IMPORT_INBOX
    return Path(path) if path else None


def scan_inbox() -> list[Import]:
    """Take every settled file in the inbox and queue it; returns the import records."""
    root = inbox_root()
    if root is None:
        return []
    for folder in (PROCESSING, DONE, FAILED):
        (root / folder).mkdir(parents=True, exist_ok=True)
    settled_before = time.time() - settings.STYRKORT_IMPORT_INBOX_SETTLE_SECONDS
    records = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.stat().st_mtime > settled_before:
            continue
        records.append(_take(root, path))
    return [record for record in records if record is not None]


def _take(root: Path, path: Path) -> Import | None:
    # Renaming is atomic: of two scans at once, one gets the file and the other skips it.
    claimed = root / PROCESSING / f".{uuid.uuid4().hex}_{path.name}"
    try:
        path.rename(claimed)
    except FileNotFoundError:
        return None
    with claimed.open("rb") as handle:
        record = receive_import(
            fileobj=handle, filename=path.name, user=None, source=ImportSource.INBOX
        )
    claimed.rename(_processing_path(root, record))
    if record.status == ImportStatus.QUEUED:
        try:
            enqueue_import(record)
        except ImportQueueUnavailable:
            record.refresh_from_db()  # recorded as failed: filed below
    if record.status == ImportStatus.FAILED:
        file_away(record)
    logger.info("inbox: %s taken as import #%s", path.name, record.pk)
    return record


def _processing_path(root: Path, record: Import) -> Path:
    return root / PROCESSING / f"{record.pk}_{record.filename}"


def file_away(record: Import) -> None:
    """Move an inbox import's file to done/ or failed/, beside a report of what happened."""
    root = inbox_root()
    if root is None:
        return
    source = _processing_path(root, record)
    if not source.exists():
        return  # filed already (a second delivery), or the inbox moved
    folder = DONE if record.status == ImportStatus.SUCCEEDED else FAILED
    (root / folder).mkdir(parents=True, exist_ok=True)
    target = root / folder / source.name
    report = target.with_name(target.name + ".report.txt")
    # The report first: whoever watches done/ and failed/ finds it with the file.
    temporary = report.with_name("." + report.name)
    temporary.write_text(report_text(record), encoding="utf-8")
    os.replace(temporary, report)
    os.replace(source, target)


def report_text(record: Import) -> str:
    """What happened to an import, as plain text (the inbox report)."""
    lines = [
        f"import #{record.pk}: {record.status}",
        f"file: {record.filename}",
        f"sha256: {record.sha256}",
        f"size: {record.size} bytes",
        f"received: {timezone.localtime(record.received_at).isoformat()}",
    ]
    if record.finished_at:
        lines.append(f"finished: {timezone.localtime(record.finished_at).isoformat()}")
    if record.duplicate_of_id:
        lines.append(f"duplicate of: import #{record.duplicate_of_id}")
    lines.append(
        f"rows: {record.rows_total}; {record.created} created, {record.changed} changed, "
        f"{record.unchanged} unchanged, {record.rejected} rejected"
    )
    for error in record.errors:
        column = f", column {error['column']}" if error.get("column") else ""
        lines.append(f"row {error['row']}{column}: {error['message']}")
    if record.rejected > len(record.errors):
        lines.append(f"... and more; {record.rejected} rows rejected in all")
    return "\n".join(lines) + "\n"
