"""Session-wide test setup.

In CI the suite must run against the real services; a missing one fails the run instead of
quietly falling back to SQLite.
"""

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            raise pytest.UsageError("CI=true needs DATABASE_URL pointing at PostgreSQL")
        if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
            raise pytest.UsageError("CI=true needs CELERY_BROKER_URL pointing at Redis")
