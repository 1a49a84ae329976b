"""A real SMTP server (aiosmtpd) for the reminder tests, and a Celery worker that sends to it.

The server runs for the session on a free port of 127.0.0.1 and keeps what it receives;
each test starts with an empty inbox. The worker is `celery -A config worker` as production
runs it, with EMAIL_HOST/EMAIL_PORT pointing at that server, consuming a queue of its own so
that it never takes another suite's tasks (nor another worker this suite's).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
SITE_URL = "https://styrkort.example.org"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return self.message.get_content().replace("\r\n", "\n")  # SMTP's line ends


@dataclass
class Inbox:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 60.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.messages()) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(self.messages())} of {count} messages arrived")
            time.sleep(0.1)
        return self.messages()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    inbox = Inbox("127.0.0.1", _free_port())
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_server, settings) -> Inbox:
    """The session's SMTP server, emptied, and Django sending to it for real."""
    with smtp_server.lock:
        smtp_server.received.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.STYRKORT_SITE_URL = SITE_URL
    return smtp_server


@dataclass
class ReminderWorker:
    process: subprocess.Popen
    name: str
    queue: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]


@pytest.fixture(scope="session")
def reminder_worker(django_db_setup, django_db_blocker, smtp_server, tmp_path_factory):
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
