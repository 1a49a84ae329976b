"""`wait_for_migrations`: worker and beat start only once web has migrated the database.

The unapplied state is made the way a deploy of new code meets it: the database lacks the
record of the newest migration. Committed data (transactional_db), so that the command's
own connection sees it, as the worker's would.
"""

import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from dashboard.management.commands.wait_for_migrations import unapplied_migrations

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def one_unapplied():
    """Forget the newest migration of one app, as if new code brought it; put it back after."""
    loader = MigrationLoader(connection)
    app, name = max(key for key in loader.graph.leaf_nodes() if key[0] == "indicators")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT applied FROM django_migrations WHERE app = %s AND name = %s", [app, name]
        )
        (applied,) = cursor.fetchone()
        cursor.execute("DELETE FROM django_migrations WHERE app = %s AND name = %s", [app, name])

    def apply():  # what web's `migrate` records when it is done
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO django_migrations (app, name, applied) SELECT %s, %s, %s "
                "WHERE NOT EXISTS (SELECT 1 FROM django_migrations WHERE app = %s AND name = %s)",
                [app, name, applied, app, name],
            )

    yield f"{app}.{name}", apply
    apply()


def test_returns_at_once_when_the_schema_is_up_to_date(capsys):
    assert unapplied_migrations() == []
    call_command("wait_for_migrations", "--timeout", "0")
    assert "up to date" in capsys.readouterr().out


def test_fails_at_the_timeout_naming_the_unapplied_migration(one_unapplied, capsys):
    migration, _apply = one_unapplied
    assert unapplied_migrations() == [migration]
    started = time.monotonic()
    with pytest.raises(CommandError, match="1 migration"):
        call_command("wait_for_migrations", "--timeout", "1", "--interval", "0.2")
    assert time.monotonic() - started >= 1
    assert migration in capsys.readouterr().err


def test_waits_until_web_has_migrated(one_unapplied):
    _migration, apply = one_unapplied
    outcome: list = []

    def worker_start():
        try:
            call_command("wait_for_migrations", "--timeout", "30", "--interval", "0.2")
            outcome.append(("done", time.monotonic()))
        except BaseException as exc:  # reported below, in the test's own thread
            outcome.append(("error", exc))
        finally:
            connection.close()

    waiting = threading.Thread(target=worker_start)
    waiting.start()
    time.sleep(1.5)
    assert not outcome, "the worker started before the migration was applied"
    applied_at = time.monotonic()
    apply()
    waiting.join(timeout=30)
    assert outcome and outcome[0][0] == "done", outcome
    assert outcome[0][1] >= applied_at


def entrypoint(**env: str) -> subprocess.CompletedProcess:
    """deploy/entrypoint.sh as worker and beat run it, against the test database."""
    settings = connection.settings_dict
    credentials = quote(settings["USER"]) + (
        f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
    )
    url = (
        f"postgres://{credentials}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    return subprocess.run(
        ["sh", str(ROOT / "deploy" / "entrypoint.sh"), "echo", "worker started"],
        cwd=ROOT,
        env={
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "DATABASE_URL": url,
            "SECRET_KEY": "entrypoint-test-key-0123456789",
            "STYRKORT_WAIT_FOR_MIGRATIONS": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_entrypoint_starts_worker_and_beat_only_on_a_migrated_database(one_unapplied):
    migration, apply = one_unapplied
    held_back = entrypoint(STYRKORT_MIGRATION_WAIT_SECONDS="1")
    assert held_back.returncode != 0 and "worker started" not in held_back.stdout
    assert migration in held_back.stderr
    apply()
    started = entrypoint()
    assert started.returncode == 0, started.stderr
    assert started.stdout.splitlines()[-1] == "worker started"
