"""The reminder tests' fixtures: the real SMTP server (tests/mail.py) and a Celery worker
that sends to it.

The worker is `celery -A config worker` as production runs it, with EMAIL_HOST/EMAIL_PORT
pointing at that server, consuming a queue of its own so that it never takes another
suite's tasks (nor another worker this suite's).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.db import connection

from config.celery import app as celery_app
from tests.mail import SITE_URL, smtp, smtp_server  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ReminderWorker:
    process: subprocess.Popen
    name: str
    queue: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]


@pytest.fixture(scope="session")
def reminder_worker(django_db_setup, django_db_blocker, smtp_server, tmp_path_factory):  # noqa: F811
    """`celery -A config worker` on the test database, sending e-mail to `smtp_server`."""
    queue = f"reminders-test-{uuid.uuid4().hex[:8]}"
    name = f"{queue}@%h"
    log = tmp_path_factory.mktemp("reminder-worker") / "worker.log"
    with django_db_blocker.unblock():
        parts = urlparse(os.environ["DATABASE_URL"])
        database_url = urlunparse(parts._replace(path="/" + connection.settings_dict["NAME"]))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "0",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
        "STYRKORT_SITE_URL": SITE_URL,
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
        "--concurrency=1", "--loglevel=INFO", "-n", name, "-Q", queue,
        "--max-tasks-per-child=1", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    worker = ReminderWorker(process, name.replace("%h", os.uname().nodename), queue, log)
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
