#!/bin/sh
# Restore a backup made by deploy/backup.sh into an empty database and MEDIA_ROOT.
#
#   deploy/restore.sh [--force] BACKUP_DIRECTORY
#
# Reads DATABASE_URL and MEDIA_ROOT like the app. Before writing anything it checks the
# backup's checksums, and refuses a database that has tables or a MEDIA_ROOT that has files:
# restoring over live data would mix two states. --force empties the database's schema
# first (DROP SCHEMA ... CASCADE) and writes the files over those of the same name.
# Afterwards it compares the rows per table and every file's checksum with the backup and
# fails on any difference. Stop web, worker and beat while it runs (README "Restore").
set -eu

fail() { echo "restore: $*" >&2; exit 1; }

FORCE=0
if [ "${1:-}" = "--force" ]; then
    FORCE=1
    shift
fi
[ $# -eq 1 ] || fail "usage: deploy/restore.sh [--force] BACKUP_DIRECTORY"
BACKUP=$(cd "$1" 2>/dev/null && pwd) || fail "no backup directory $1"
[ -n "${DATABASE_URL:-}" ] || fail "DATABASE_URL is not set"
MEDIA_ROOT=${MEDIA_ROOT:-}
[ -n "$MEDIA_ROOT" ] || fail "MEDIA_ROOT is not set (the app's uploaded files)"
HERE=$(cd "$(dirname "$0")" && pwd)
sql() { psql -XAtq -v ON_ERROR_STOP=1 -F "$(printf '\t')" -d "$DATABASE_URL" "$@"; }

[ -f "$BACKUP/SHA256SUMS" ] || fail "$BACKUP is not a complete backup (no SHA256SUMS)"
(cd "$BACKUP" && sha256sum --quiet -c SHA256SUMS) || fail "$BACKUP is damaged: checksums differ"

TABLES=$(sql -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S')") \
    || fail "cannot connect to the database"
FILES=0
[ ! -d "$MEDIA_ROOT" ] || FILES=$(find "$MEDIA_ROOT" -type f | wc -l | tr -d ' ')
if [ "$FORCE" -eq 0 ]; then
    [ "$TABLES" -eq 0 ] || fail "the database is not empty ($TABLES tables and sequences);" \
        "restore into a new database, or add --force to replace its contents"
    [ "$FILES" -eq 0 ] || fail "MEDIA_ROOT ($MEDIA_ROOT) has $FILES files;" \
        "restore into an empty directory, or add --force to write over them"
elif [ "$TABLES" -ne 0 ]; then
    echo "restore: --force: dropping the $TABLES tables and sequences of the database" >&2
    sql -c 'SET client_min_messages TO warning' -c 'DO $$ BEGIN EXECUTE format($f$DROP SCHEMA %I CASCADE; CREATE SCHEMA %I$f$,
                current_schema(), current_schema()); END $$'
fi

# One transaction: a failed restore leaves the database as empty as it was.
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
    --dbname="$DATABASE_URL" "$BACKUP/database.dump"
mkdir -p "$MEDIA_ROOT"
tar -C "$MEDIA_ROOT" -xf "$BACKUP/media.tar"

# Check what arrived against what was backed up.
sql -f "$HERE/rowcounts.sql" > "$MEDIA_ROOT/.styrkort-restore-rows.tsv"
if ! cmp -s "$BACKUP/rows.tsv" "$MEDIA_ROOT/.styrkort-restore-rows.tsv"; then
    diff "$BACKUP/rows.tsv" "$MEDIA_ROOT/.styrkort-restore-rows.tsv" >&2 || true
    rm -f "$MEDIA_ROOT/.styrkort-restore-rows.tsv"
    fail "rows per table differ from the backup (above: < backup, > restored)"
fi
rm -f "$MEDIA_ROOT/.styrkort-restore-rows.tsv"
(cd "$MEDIA_ROOT" && sha256sum --quiet -c "$BACKUP/media.sha256") \
    || fail "restored files differ from the backup"

echo "restore: restored $(wc -l < "$BACKUP/rows.tsv" | tr -d ' ') tables and" \
    "$(wc -l < "$BACKUP/media.sha256" | tr -d ' ') files from $BACKUP"
echo "restore: if this code is newer than the backup, run manage.py migrate (web does on start)"
