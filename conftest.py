"""Session-wide test setup.

The suite runs against the real services (PostgreSQL, Redis); a missing one fails the run
at once with a clear message instead of quietly falling back or skipping.
"""

import os
import socket
from urllib.parse import urlparse

import pytest


def _reachable(url: str, default_port: int) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 3
        ):
            return True
    except OSError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("STYRKORT_PURE_TESTS"):  # rules/parser tests alone, no services at all
        return
    database = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not database.startswith(("postgres://", "postgresql://")):
        raise pytest.UsageError(
            "The tests run against PostgreSQL: set DATABASE_URL (make test sets "
            "postgres://127.0.0.1:5432/styrkort)."
        )
    if not broker.startswith("redis://"):
        raise pytest.UsageError(
            "The tests run a real Celery worker: set CELERY_BROKER_URL=redis://..."
        )
    for url, port, name in ((database, 5432, "PostgreSQL"), (broker, 6379, "Redis")):
        if not _reachable(url, port):
            raise pytest.UsageError(f"{name} is not reachable at {url}; start it (see README).")
