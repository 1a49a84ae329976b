#!/bin/sh
# Back up Styrkort: the database and the uploaded files (MEDIA_ROOT), into one directory.
#
#   deploy/backup.sh [DIRECTORY]     default: $STYRKORT_BACKUP_DIR
#
# Reads DATABASE_URL (as the app does) and MEDIA_ROOT. Writes DIRECTORY/styrkort-<UTC time>/:
#   database.dump   pg_dump custom format (pg_restore reads it; restore with deploy/restore.sh)
#   rows.tsv        rows per table, counted in the same snapshot as the dump
#   media.tar       the files under MEDIA_ROOT (import files, kept as evidence)
#   media.sha256    a checksum per file, verified after a restore
#   manifest.txt    when, from which server, with which pg_dump
#   SHA256SUMS      checksums of the above, verified before a restore
# The directory is named only when complete (until then it ends in .partial).
#
# A shell script, not a manage.py command, because pg_dump must be at least as new as the
# server: in docker-compose.yml the `backup` service runs it in the postgres image itself,
# whose client tools always match the server. Outside Docker it needs pg_dump, psql, tar
# and sha256sum on PATH (README "Backup and restore").
#
# Consistency on a running system: the dump and the row counts share one exported snapshot;
# the files are archived after the dump, so every import file a row refers to is there
# (import files are written before their row and never changed).
set -eu

fail() { echo "backup: $*" >&2; exit 1; }

DEST=${1:-${STYRKORT_BACKUP_DIR:-}}
[ -n "$DEST" ] || fail "say where: deploy/backup.sh DIRECTORY (or set STYRKORT_BACKUP_DIR)"
[ -n "${DATABASE_URL:-}" ] || fail "DATABASE_URL is not set"
MEDIA_ROOT=${MEDIA_ROOT:-}
[ -n "$MEDIA_ROOT" ] || fail "MEDIA_ROOT is not set (the app's uploaded files)"
HERE=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$DEST"
NAME=styrkort-$(date -u +%Y%m%dT%H%M%SZ)
TARGET="$DEST/$NAME"
WORK="$TARGET.partial"
[ ! -e "$TARGET" ] && [ ! -e "$WORK" ] || fail "$TARGET already exists"
mkdir "$WORK"
SESSION=""
cleanup() {
    status=$?
    exec 3>&- 2>/dev/null || true
    [ -z "$SESSION" ] || kill "$SESSION" 2>/dev/null || true
    rm -f "$WORK/.psql.in"
    [ "$status" -eq 0 ] || echo "backup: failed; the incomplete backup is left in $WORK" >&2
}
trap cleanup EXIT

# One session holds a repeatable-read snapshot open and exports it; pg_dump reads exactly
# that snapshot, and the row counts are taken in it afterwards.
mkfifo "$WORK/.psql.in"
psql -XAtq -v ON_ERROR_STOP=1 -F "$(printf '\t')" -d "$DATABASE_URL" \
    < "$WORK/.psql.in" > "$WORK/.psql.out" &
SESSION=$!
exec 3> "$WORK/.psql.in"
printf '%s\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;' \
    'SELECT pg_export_snapshot();' >&3
waited=0
while [ ! -s "$WORK/.psql.out" ]; do
    kill -0 "$SESSION" 2>/dev/null || fail "cannot connect to the database"
    [ "$waited" -lt 300 ] || fail "no snapshot from the database after 30 s"
    sleep 0.1
    waited=$((waited + 1))
done
SNAPSHOT=$(head -n 1 "$WORK/.psql.out")

pg_dump --format=custom --snapshot="$SNAPSHOT" --file="$WORK/database.dump" "$DATABASE_URL"
printf '%s\n' "\\o $WORK/rows.tsv" "\\i $HERE/rowcounts.sql" '\o' \
    "SELECT current_setting('server_version');" 'COMMIT;' '\q' >&3
exec 3>&-
wait "$SESSION" || fail "counting rows failed"
SESSION=""
SERVER_VERSION=$(tail -n 1 "$WORK/.psql.out")
rm -f "$WORK/.psql.in" "$WORK/.psql.out"

# The files: listed once, then archived and checksummed from that same list.
mkdir -p "$MEDIA_ROOT"
(cd "$MEDIA_ROOT" && find . -type f | LC_ALL=C sort) > "$WORK/.media.list"
tar -C "$MEDIA_ROOT" -cf "$WORK/media.tar" -T "$WORK/.media.list"
(cd "$MEDIA_ROOT" && tr '\n' '\0' < "$WORK/.media.list" | xargs -0r sha256sum) \
    > "$WORK/media.sha256"
FILES=$(wc -l < "$WORK/.media.list" | tr -d ' ')
rm -f "$WORK/.media.list"

{
    echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "server: PostgreSQL $SERVER_VERSION"
    echo "pg_dump: $(pg_dump --version)"
    echo "tables: $(wc -l < "$WORK/rows.tsv" | tr -d ' ')"
    echo "files: $FILES"
} > "$WORK/manifest.txt"
(cd "$WORK" && sha256sum database.dump rows.tsv media.tar media.sha256 manifest.txt) \
    > "$WORK/SHA256SUMS"

mv "$WORK" "$TARGET"
echo "$TARGET"
