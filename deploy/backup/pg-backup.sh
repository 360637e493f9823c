#!/bin/sh
# One pg_dump of the service database into BACKUP_DIR, checked, then rotation: only the newest
# BACKUP_KEEP dumps stay. Run by the compose "backup" service in a loop and, without
# containers, by stockscanner-backup.timer (as the postgres user, over the local socket).
#
# Settings (environment): BACKUP_DIR (default /var/backups/stockscanner), BACKUP_KEEP (14),
# the libpq variables PGHOST, PGPORT, PGUSER, PGDATABASE (default stockscanner), and
# PGPASSWORD_FILE: a file holding the password (never on the command line, where `ps` shows it).
#
# Restore:  pg_restore --clean --if-exists --dbname=stockscanner FILE.dump
set -eu

BACKUP_DIR=${BACKUP_DIR:-/var/backups/stockscanner}
BACKUP_KEEP=${BACKUP_KEEP:-14}
PGDATABASE=${PGDATABASE:-stockscanner}
export PGDATABASE

case $BACKUP_KEEP in
    '' | *[!0-9]*) echo "pg-backup: BACKUP_KEEP must be a whole number, not '$BACKUP_KEEP'" >&2; exit 2 ;;
esac
if [ "$BACKUP_KEEP" -lt 1 ]; then
    echo "pg-backup: BACKUP_KEEP must be at least 1" >&2
    exit 2
fi
if [ -n "${PGPASSWORD_FILE:-}" ]; then
    PGPASSWORD=$(cat "$PGPASSWORD_FILE")
    export PGPASSWORD
fi

umask 077
mkdir -p "$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
final="$BACKUP_DIR/stockscanner-$stamp-$$.dump"
partial="$final.partial"
trap 'rm -f "$partial"' EXIT INT TERM

# custom format: compressed, restorable table by table with pg_restore
pg_dump --format=custom --compress=6 --file="$partial"
# a dump pg_restore cannot read is not a backup
pg_restore --list "$partial" > /dev/null
mv "$partial" "$final"

# newest first by modification time; our own file names (no spaces), so ls is safe here
# shellcheck disable=SC2012
ls -1t "$BACKUP_DIR"/stockscanner-*.dump | tail -n "+$((BACKUP_KEEP + 1))" | while read -r old; do
    rm -f -- "$old"
done
echo "pg-backup: wrote $final ($(wc -c < "$final") bytes); keeping the newest $BACKUP_KEEP"
