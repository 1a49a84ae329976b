"""A real Celery worker for the tests that need one, started as production runs it.

`running_worker` starts `celery -A config worker` on the test database (the session's own
name, so a worker sees what a `transactional_db` test commits), waits until it answers a
ping and stops it at the end. A worker that does not start fails the tests that use it;
it never skips them. Each suite gives its own environment (folders, SMTP server, Kolada)
and, where another worker may be running, a queue of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Worker:
    process: subprocess.Popen
    name: str  # the node name, as ping and inspect address it
    log: Path
    queue: str | None = None  # None: the default queue

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]


def worker_database_url() -> str:
    """DATABASE_URL naming the test database (pytest-django's, per xdist process)."""
    parts = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(parts._replace(path="/" + connection.settings_dict["NAME"]))


@contextmanager
def running_worker(
    django_db_blocker,
    log_dir: Path,
    *,
    env: dict[str, str],
    queue: str | None = None,
    pool: str = "prefork",
) -> Iterator[Worker]:
    """A worker with `env` on top of this process's environment, until the block ends.

    prefork runs one child that is replaced after each task: transactional tests flush the
    database between tests, and a long-lived child would keep ids it cached (content types).
    """
    prefix = queue or "styrkort-test"
    name = f"{prefix}-{uuid.uuid4().hex[:8]}@%h"
    log = log_dir / "worker.log"
    with django_db_blocker.unblock():
        database_url = worker_database_url()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}"]
    if pool == "prefork":
        command += ["--concurrency=1", "--max-tasks-per-child=1"]
    command += ["--loglevel=INFO", "-n", name]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    if queue:
        command += ["-Q", queue]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=out)
    worker = Worker(process, name.replace("%h", os.uname().nodename), log, queue)
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[worker.name], timeout=1.0):
            if process.poll() is not None:
                pytest.fail(f"the Celery worker exited at start:\n{worker.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not answer a ping:\n{worker.output()}")
        yield worker
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
