"""The reminder tests' fixtures: the real SMTP server (tests/mail.py) and a Celery worker
that sends to it.

The worker is `celery -A config worker` as production runs it, with EMAIL_HOST/EMAIL_PORT
pointing at that server, consuming a queue of its own so that it never takes another
suite's tasks (nor another worker this suite's).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.mail import SITE_URL, smtp, smtp_server  # noqa: F401 (fixtures)
from tests.workers import running_worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def reminder_worker(django_db_setup, django_db_blocker, smtp_server, tmp_path_factory):  # noqa: F811
    """`celery -A config worker` on the test database, sending e-mail to `smtp_server`."""
    env = {
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
        "STYRKORT_SITE_URL": SITE_URL,
    }
    queue = f"reminders-test-{uuid.uuid4().hex[:8]}"
    log_dir = tmp_path_factory.mktemp("reminder-worker")
    with running_worker(django_db_blocker, log_dir, env=env, queue=queue) as worker:
        yield worker
