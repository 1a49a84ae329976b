"""Backup and restore (deploy/backup.sh, deploy/restore.sh) end to end, as README "Backup
and restore" describes them.

The demo is loaded into a fresh PostgreSQL database with a few uploaded files beside it,
backed up, and restored into another, empty database and an empty MEDIA_ROOT. Then the
rows of every table, the sequences, the division report byte by byte and every file must be
the same. The scripts run as an operator runs them: processes with DATABASE_URL and
MEDIA_ROOT, nothing shared with the test's own Django.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "backup.sh"
RESTORE = ROOT / "deploy" / "restore.sh"


# What an upload leaves under MEDIA_ROOT (indicators' Import.file: imports/%Y/%m/).
UPLOADS = {
    "imports/2022/09/t2 Nära.csv": "indikator;enhet;period\n".encode("cp1252"),
    "imports/2022/09/t2.xlsx": bytes(range(256)) * 40,
    "imports/2023/01/tom.csv": b"",
}


def app_env(url: str, media: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    # No broker: tasks run in-process, as with `make demo`; the scripts need none.
    env.update(DATABASE_URL=url, MEDIA_ROOT=str(media), SECRET_KEY="backup-test-key-0123456789")
    env.pop("DEBUG", None)
    return env


def run(args: list[str], env: dict[str, str], check: bool = True):
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, timeout=300, check=False)
    if check and result.returncode:
        pytest.fail(f"{args} exited {result.returncode}:\n{result.stderr.decode()}")
    return result


def manage(*args: str, env: dict[str, str]) -> bytes:
    return run([sys.executable, "manage.py", *args], env).stdout


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        ]
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }


def sequences(url: str) -> dict[str, int | None]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT sequencename, last_value FROM pg_sequences").fetchall())


def files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def report(env: dict[str, str]) -> bytes:
    return manage("report", "--org-unit", "div_nara", "--period", "2022-T2", env=env)


@pytest.fixture(scope="module")
def backed_up(module_database, tmp_path_factory):
    """The demo with uploads in a fresh database, and its backup: made once for the module
    (a migrate and a demo load cost about 20 s). A test that changes the source database
    puts it back before it ends."""
    root = tmp_path_factory.mktemp("backed_up")
    media = root / "media"
    env = app_env(module_database("backup_src"), media)
    manage("migrate", "--noinput", env=env)
    manage("load_demo", env=env)
    for name, content in UPLOADS.items():
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        (media / name).write_bytes(content)
    result = run(["sh", str(BACKUP), str(root / "backups")], env)
    backup = Path(result.stdout.decode().strip().splitlines()[-1])
    return env, backup


def test_restore_into_an_empty_database_gives_the_same_data_report_and_files(
    backed_up, new_database, tmp_path
):
    source, backup = backed_up
    assert backup.parent.name == "backups" and backup.name.startswith("styrkort-")
    assert sorted(p.name for p in backup.iterdir()) == [
        "SHA256SUMS",
        "database.dump",
        "manifest.txt",
        "media.sha256",
        "media.tar",
        "rows.tsv",
    ]
    target = app_env(new_database("backup_dst"), tmp_path / "restored-media")

    result = run(["sh", str(RESTORE), str(backup)], target)
    assert b"restored" in result.stdout

    counts = row_counts(target["DATABASE_URL"])
    assert counts == row_counts(source["DATABASE_URL"])
    assert counts["indicators_measurement"] > 50 and counts["auth_user"] == 4
    assert sequences(target["DATABASE_URL"]) == sequences(source["DATABASE_URL"])
    source_report = report(source)
    assert source_report.count(b"\n") > 40
    assert report(target) == source_report
    assert files(Path(target["MEDIA_ROOT"])) == files(Path(source["MEDIA_ROOT"])) == UPLOADS
    # The restored database is a complete one for this code: nothing left to migrate.
    manage("migrate", "--check", env=target)


def test_restore_refuses_a_database_with_tables_unless_forced(backed_up, tmp_path):
    source, backup = backed_up
    before = row_counts(source["DATABASE_URL"])
    target = dict(source, MEDIA_ROOT=str(tmp_path / "other-media"))

    refused = run(["sh", str(RESTORE), str(backup)], target, check=False)
    assert refused.returncode != 0
    assert b"database is not empty" in refused.stderr and b"--force" in refused.stderr
    assert row_counts(source["DATABASE_URL"]) == before

    # Told to, it replaces what is there: a user added after the backup is gone (and the
    # module's source is as the other tests expect it).
    manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; User.objects.create(username='after-backup')",
        env=source,
    )
    assert row_counts(source["DATABASE_URL"])["auth_user"] == before["auth_user"] + 1
    run(["sh", str(RESTORE), "--force", str(backup)], target)
    assert row_counts(source["DATABASE_URL"]) == before


def test_restore_refuses_a_non_empty_media_root(backed_up, new_database):
    source, backup = backed_up
    target = app_env(new_database("backup_dst"), Path(source["MEDIA_ROOT"]))
    refused = run(["sh", str(RESTORE), str(backup)], target, check=False)
    assert refused.returncode != 0 and b"MEDIA_ROOT" in refused.stderr
    assert row_counts(target["DATABASE_URL"]) == {}


def test_restore_refuses_a_damaged_backup(backed_up, new_database, tmp_path):
    _source, backup = backed_up
    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    with (damaged / "database.dump").open("r+b") as dump:
        dump.seek(2000)
        byte = dump.read(1)
        dump.seek(2000)
        dump.write(bytes([byte[0] ^ 0xFF]))
    target = app_env(new_database("backup_dst"), tmp_path / "restored-media")
    refused = run(["sh", str(RESTORE), str(damaged)], target, check=False)
    assert refused.returncode != 0 and b"damaged" in refused.stderr
    assert row_counts(target["DATABASE_URL"]) == {}
    assert not (tmp_path / "restored-media").exists()
