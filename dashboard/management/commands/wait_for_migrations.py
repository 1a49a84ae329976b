import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.migrations.executor import MigrationExecutor


def unapplied_migrations(database: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The migrations of this code that the database has not applied yet, as app.name."""
    connection = connections[database]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


class Command(BaseCommand):
    help = (
        "Wait until the database has every migration of this code applied (by web's start), "
        "then exit 0; exit 1 at the timeout. Worker and beat run it before they start."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=float, default=300, help="seconds to wait (default 300)"
        )
        parser.add_argument("--interval", type=float, default=2, help="seconds between checks")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, timeout: float, interval: float, database: str, **options):
        deadline = time.monotonic() + timeout
        reported = None
        while True:
            try:
                pending = unapplied_migrations(database)
            except OperationalError as exc:
                # The database is not up yet (or restarting): that is waiting too.
                pending = [f"(database not reachable: {str(exc).strip().splitlines()[0]})"]
            finally:
                # A fresh connection next round: a broken one must not be reused.
                connections[database].close()
            if not pending:
                self.stdout.write("wait_for_migrations: database schema is up to date.")
                return
            if pending != reported:
                self.stderr.write(
                    f"wait_for_migrations: waiting for {len(pending)} migration(s): "
                    + ", ".join(pending[:5])
                    + (" ..." if len(pending) > 5 else "")
                )
                reported = pending
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"wait_for_migrations: {len(pending)} migration(s) still unapplied after "
                    f"{timeout:g} s; is web running (it applies them), or run "
                    "`manage.py migrate` once."
                )
            time.sleep(interval)
