"""The inbox folder: source systems drop measurement files, Celery beat picks them up.

    <inbox>/values.csv                   dropped by a source system
    <inbox>/processing/<id>_values.csv   taken: import #<id> is queued or running
    <inbox>/done/<id>_values.csv         succeeded, beside <id>_values.csv.report.txt
    <inbox>/failed/<id>_values.csv       failed (bad rows, duplicate, ...), beside its report

A file is taken only when two scans at least STYRKORT_IMPORT_INBOX_SETTLE_SECONDS apart saw
the same size and mtime, its mtime is that old, and (where /proc shows it) no process has it
open: a writer that pauses mid-file is not mistaken for a finished one. Names starting with
"." are ignored (the usual way to write a file under a temporary name, e.g. ".x.csv.partial",
and rename it when complete). A settle time of 0 takes files at the first scan (tests).

Taking a file renames it to processing/.<random>_<name> and holds a lock on it while it is
received. Whatever fails before the import record exists puts the file back; a file left
there by a process that died (the lock is gone with it) is put back by a later scan.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from domain.exchange.format import RowError
from domain.messages import Message

from ..models import Import, ImportSource, ImportStatus
from .queue import ImportQueueUnavailable, enqueue_import, receive_import

logger = logging.getLogger(__name__)

PROCESSING, DONE, FAILED = "processing", "done", "failed"
# What the scans saw of each waiting file, for the next scan to compare (in processing/, out
# of the senders' way).
STATE_FILE = ".styrkort-inbox-seen.json"
_CLAIMED = re.compile(r"^\.[0-9a-f]{32}_(?P<name>.+)$")


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
    settle = settings.STYRKORT_IMPORT_INBOX_SETTLE_SECONDS
    _put_back_orphans(root, settle)
    now = time.time()
    seen = _load_seen(root)
    still_seen: dict[str, list] = {}
    candidates: list[tuple[Path, os.stat_result]] = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        stat = path.stat()
        signature = [stat.st_size, stat.st_mtime_ns]
        earlier = seen.get(path.name)
        if earlier and earlier[:2] == signature:
            still_seen[path.name] = earlier  # unchanged: keep when it was first seen so
        else:
            still_seen[path.name] = [*signature, now]
        settled = stat.st_mtime <= now - settle and (
            settle <= 0 or (earlier is not None and still_seen[path.name][2] <= now - settle)
        )
        if settled:
            candidates.append((path, stat))
    held = _open_files() if candidates else set()
    records = []
    for path, stat in candidates:
        if (stat.st_dev, stat.st_ino) in held:
            logger.info("inbox: %s is still open in another process; left for now", path.name)
            continue
        still_seen.pop(path.name, None)
        record = _take(root, path, stat)
        if record is not None:
            records.append(record)
    _save_seen(root, still_seen)
    return records


def _load_seen(root: Path) -> dict[str, list]:
    try:
        return json.loads((root / PROCESSING / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_seen(root: Path, seen: dict[str, list]) -> None:
    temporary = root / PROCESSING / f"{STATE_FILE}.{os.getpid()}"
    temporary.write_text(json.dumps(seen), encoding="utf-8")
    os.replace(temporary, root / PROCESSING / STATE_FILE)


def _open_files() -> set[tuple[int, int]]:
    """(device, inode) of every file a process on this machine has open, as far as /proc
    lets us see; empty where there is no /proc (the two scans still apply)."""
    held = set()
    proc = Path("/proc")
    if not proc.is_dir():
        return held
    for fd_dir in proc.glob("[0-9]*/fd"):
        try:
            fds = list(fd_dir.iterdir())
        except OSError:
            continue  # gone, or not ours to look at
        for fd in fds:
            with contextlib.suppress(OSError):
                stat = fd.stat()
                held.add((stat.st_dev, stat.st_ino))
    return held


def _put_back_orphans(root: Path, settle: float) -> None:
    """Files a scan claimed and then died on (nobody holds their lock): back in the inbox,
    to be taken again. Renamed more than `settle` seconds ago, so a scan that has only
    just claimed one (and not yet locked it) is left alone."""
    for path in (root / PROCESSING).iterdir():
        match = _CLAIMED.match(path.name)
        if match is None or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_ctime > time.time() - settle:
                continue
            with path.open("rb") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live scan is receiving it
                target = _put_back(root, path, match["name"])
            logger.warning("inbox: %s was left half-taken; put back as %s", path, target.name)


def _put_back(root: Path, claimed: Path, name: str) -> Path:
    target = root / name
    if target.exists():  # a new file of the same name came in meanwhile: keep both
        target = root / f"{Path(name).stem}.{uuid.uuid4().hex[:8]}{Path(name).suffix}"
    claimed.rename(target)
    return target


def _take(root: Path, path: Path, stat: os.stat_result) -> Import | None:
    # Renaming is atomic: of two scans at once, one gets the file and the other skips it.
    claimed = root / PROCESSING / f".{uuid.uuid4().hex}_{path.name}"
    try:
        path.rename(claimed)
    except FileNotFoundError:
        return None
    record = None
    try:
        with claimed.open("rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours while it is received
            after = os.fstat(handle.fileno())
            if (after.st_size, after.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                _put_back(root, claimed, path.name)
                logger.info("inbox: %s changed as it was taken; put back", path.name)
                return None
            record = receive_import(
                fileobj=handle, filename=path.name, user=None, source=ImportSource.INBOX
            )
            if record.status == ImportStatus.QUEUED and record.size != after.st_size:
                # Still written to through an open handle after all: not what was settled.
                record.fail([RowError(0, "", _CHANGED_WHILE_TAKEN)])
            claimed.rename(_processing_path(root, record))
    except Exception:
        if record is None or record.pk is None:
            with contextlib.suppress(OSError):
                _put_back(root, claimed, path.name)
            logger.exception("inbox: %s could not be taken; put back for the next scan", path)
        else:
            logger.exception("inbox: %s taken as import #%s, then failed", path, record.pk)
        return None
    if record.status == ImportStatus.QUEUED:
        # A broker that does not answer leaves it queued: the sweep sends it later.
        with contextlib.suppress(ImportQueueUnavailable):
            enqueue_import(record)
    if record.status == ImportStatus.FAILED:
        file_away(record)
    logger.info("inbox: %s taken as import #%s", path.name, record.pk)
    return record


_CHANGED_WHILE_TAKEN = Message(
    "changed_while_taken",
    "the file grew while it was being taken (still being written?); nothing was imported. "
    "Write it under a name starting with '.' and rename it when complete.",
)


def _processing_path(root: Path, record: Import) -> Path:
    return root / PROCESSING / f"{record.pk}_{record.filename}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    text = report_text(record)
    if source.stat().st_size != record.size or _sha256(source) != record.sha256:
        text += (
            "warning: the file in the inbox changed after it was received; the import used "
            "the version received (size and SHA-256 above)\n"
        )
    temporary = report.with_name("." + report.name)
    temporary.write_text(text, encoding="utf-8")
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
    if record.error_count > len(record.errors):
        lines.append(
            f"... {record.error_count} errors in all ({len(record.errors)} listed); "
            f"{record.rejected} rows rejected"
        )
    return "\n".join(lines) + "\n"
