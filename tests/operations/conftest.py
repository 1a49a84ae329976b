"""Fresh PostgreSQL databases for the operations tests, which run the app as processes."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql


def database_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def _databases():
    admin_url = database_url("postgres")
    made: list[str] = []

    def make(label: str, create: bool = True) -> str:
        name = f"styrkort_{label}_{uuid.uuid4().hex[:8]}"
        made.append(name)
        if create:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return database_url(name)

    try:
        yield make
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            for name in made:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture
def new_database():
    """Makes empty databases on the test server (or only names one, for a command that
    creates it); drops them at the end."""
    with _databases() as make:
        yield make


@pytest.fixture(scope="module")
def module_database():
    """new_database for a module's shared fixture (a demo loaded once for its tests)."""
    with _databases() as make:
        yield make
