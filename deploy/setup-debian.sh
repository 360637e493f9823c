#!/bin/bash
# Take a fresh Debian 12 host to a running Stock Scanner service, without containers:
# PostgreSQL 15 (peer authentication over the local socket: no database password), a system
# user, a virtual environment with only the service's requirements, the settings in
# /etc/stockscanner/stockscanner.env (0600, SECRET_KEY generated once), N service processes
# (stockscanner@PORT systemd units) behind nginx with TLS, and a daily pg_dump timer.
#
# Idempotent: run it again to upgrade the code or change a setting; the secret key, the
# database and the backups stay. Usage (from a checkout of the repository):
#
#   sudo deploy/setup-debian.sh --domain api.example.com --smtp-host smtp.example.com \
#        [--smtp-user USER --smtp-password-file FILE] [--mail-from ADDR] \
#        [--letsencrypt --email you@example.com] [--instances 2] [--google-client-id ID]
#
#   deploy/setup-debian.sh --dry-run --root /tmp/x ...   # as any user: render every file under
#       /tmp/x and print the commands that would change the system, without running them
#
# Every option also reads an environment variable of the same name in capitals
# (DOMAIN, SMTP_HOST, INSTANCES, ...). See deploy/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(dirname "$HERE")"

DOMAIN="${DOMAIN:-}"
EMAIL="${EMAIL:-}"
LETSENCRYPT="${LETSENCRYPT:-no}"
INSTANCES="${INSTANCES:-2}"
FIRST_PORT="${FIRST_PORT:-8001}"
SMTP_HOST="${SMTP_HOST:-}"
SMTP_PORT="${SMTP_PORT:-}"
SMTP_USER="${SMTP_USER:-}"
SMTP_PASSWORD_FILE="${SMTP_PASSWORD_FILE:-}"
MAIL_FROM="${MAIL_FROM:-}"
GOOGLE_CLIENT_ID="${GOOGLE_CLIENT_ID:-}"
DRY_RUN="${DRY_RUN:-no}"
ROOT="${ROOT:-}"

usage() {
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

die() {
    echo "setup-debian: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
        --domain) DOMAIN="$2"; shift 2 ;;
        --email) EMAIL="$2"; shift 2 ;;
        --letsencrypt) LETSENCRYPT=yes; shift ;;
        --instances) INSTANCES="$2"; shift 2 ;;
        --first-port) FIRST_PORT="$2"; shift 2 ;;
        --smtp-host) SMTP_HOST="$2"; shift 2 ;;
        --smtp-port) SMTP_PORT="$2"; shift 2 ;;
        --smtp-user) SMTP_USER="$2"; shift 2 ;;
        --smtp-password-file) SMTP_PASSWORD_FILE="$2"; shift 2 ;;
        --mail-from) MAIL_FROM="$2"; shift 2 ;;
        --google-client-id) GOOGLE_CLIENT_ID="$2"; shift 2 ;;
        --dry-run) DRY_RUN=yes; shift ;;
        --root) ROOT="$2"; shift 2 ;;
        -h | --help) usage 0 ;;
        *) echo "setup-debian: unknown option $1" >&2; usage 2 ;;
    esac
done

# --- checks ---------------------------------------------------------------------------------
[ -n "$DOMAIN" ] || die "--domain is required (the host name clients use, e.g. api.example.com)"
[[ "$DOMAIN" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]] || die "--domain '$DOMAIN' is not a host name"
if ! [[ "$INSTANCES" =~ ^[0-9]+$ ]] || [ "$INSTANCES" -lt 1 ] || [ "$INSTANCES" -gt 32 ]; then
    die "--instances must be between 1 and 32, not '$INSTANCES'"
fi
if ! [[ "$FIRST_PORT" =~ ^[0-9]+$ ]] || [ "$FIRST_PORT" -lt 1024 ] || [ "$((FIRST_PORT + 32))" -gt 65535 ]; then
    die "--first-port must be between 1024 and 65503, not '$FIRST_PORT'"
fi
if [ "$((INSTANCES * 30))" -gt 97 ]; then
    echo "setup-debian: $INSTANCES instances pool up to $((INSTANCES * 30)) database connections;" \
         "raise max_connections in /etc/postgresql/15/main/postgresql.conf above that" >&2
fi
if [ "$LETSENCRYPT" = yes ] && [ -z "$EMAIL" ]; then
    die "--letsencrypt needs --email (Let's Encrypt's expiry notices)"
fi
if [ -n "$SMTP_PASSWORD_FILE" ] && [ ! -r "$SMTP_PASSWORD_FILE" ]; then
    die "cannot read --smtp-password-file $SMTP_PASSWORD_FILE"
fi
if [ "$DRY_RUN" = yes ]; then
    if [ -z "$ROOT" ]; then
        ROOT="$(mktemp -d)"
    fi
    ROOT="$(cd "$ROOT" && pwd)"
    [ "$ROOT" != / ] || die "--dry-run writes its files under --root; / is the real system"
else
    [ "$(id -u)" -eq 0 ] || die "run as root (sudo), or with --dry-run --root DIR to see what it does"
    [ -z "$ROOT" ] || die "--root is only for --dry-run"
    if [ -r /etc/os-release ]; then
        # shellcheck disable=SC1091
        . /etc/os-release
        [ "${ID:-}" = debian ] || echo "setup-debian: this is ${PRETTY_NAME:-not Debian}; continuing" >&2
    fi
fi

ETC="$ROOT/etc/stockscanner"
ENV_FILE="$ETC/stockscanner.env"
TLS="$ETC/tls"
OPT="$ROOT/opt/stockscanner"
UNITS="$ROOT/etc/systemd/system"
NGINX="$ROOT/etc/nginx"
ACME="$ROOT/var/www/letsencrypt"
BACKUPS="$ROOT/var/backups/stockscanner"

step() { printf '\n== %s\n' "$*"; }

# Commands that change the system beyond the files below: run, or only printed in a dry run.
run() {
    if [ "$DRY_RUN" = yes ]; then
        printf 'would run: %s\n' "$*"
    else
        "$@"
    fi
}

# SQL for PostgreSQL as its superuser, from stdin (nothing secret ever goes on a command line).
as_postgres_sql() {
    if [ "$DRY_RUN" = yes ]; then
        printf 'would run as postgres: %s\n' "$(cat)"
    else
        runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt
    fi
}

# install -m MODE SOURCE DEST, and chown OWNER (printed in a dry run, which runs as anyone).
put() {
    local mode="$1" owner="$2" source="$3" dest="$4"
    mkdir -p "$(dirname "$dest")"
    install -m "$mode" "$source" "$dest"
    run chown "$owner" "$dest"
}

# The value of KEY in the existing settings file ("" when absent).
existing() {
    [ -r "$ENV_FILE" ] || return 0
    sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1
}

token() {
    # 32 random bytes in URL-safe base64 without padding: 43 characters (server/config.py)
    python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
}

# --- 1. packages ----------------------------------------------------------------------------
step "packages: PostgreSQL 15, nginx, Python venv, certbot"
run apt-get update -qq
packages=(postgresql postgresql-client nginx python3 python3-venv python3-pip openssl curl ca-certificates)
[ "$LETSENCRYPT" = yes ] && packages+=(certbot)
run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
run systemctl enable --now postgresql

# --- 2. system user -------------------------------------------------------------------------
step "system user stockscanner"
if [ "$DRY_RUN" = yes ] || ! id -u stockscanner > /dev/null 2>&1; then
    run adduser --system --group --home /var/lib/stockscanner --no-create-home \
        --shell /usr/sbin/nologin stockscanner
fi
mkdir -p "$ROOT/var/lib/stockscanner"
run chown stockscanner:stockscanner "$ROOT/var/lib/stockscanner"
chmod 0700 "$ROOT/var/lib/stockscanner"

# --- 3. database ----------------------------------------------------------------------------
step "PostgreSQL role and database stockscanner (peer authentication: no password)"
as_postgres_sql <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stockscanner') THEN
        CREATE ROLE stockscanner LOGIN;
    END IF;
END $$;
SQL
if [ "$DRY_RUN" = yes ] || [ "$(runuser -u postgres -- psql -qAtc "SELECT 1 FROM pg_database WHERE datname = 'stockscanner'")" != 1 ]; then
    run runuser -u postgres -- createdb --owner=stockscanner stockscanner
fi

# --- 4. code and virtual environment --------------------------------------------------------
step "code in /opt/stockscanner/src, venv in /opt/stockscanner/venv (service requirements only)"
# a fresh copy each run (no file of an older version stays behind), swapped in whole; the
# running instances use the venv's installed copy, not this folder
rm -rf "$OPT/src.new" "$OPT/src.old"
mkdir -p "$OPT/src.new"
tar -C "$SRC" --exclude=.git --exclude=.venv --exclude='__pycache__' --exclude=.mypy_cache \
    --exclude=.pytest_cache --exclude='*.egg-info' --exclude=tests --exclude=shared \
    --exclude=bench --exclude=deploy/secrets --exclude=deploy/stockscanner.env \
    --exclude=deploy/tls --exclude=deploy/backups -cf - . | tar -C "$OPT/src.new" -xf -
if [ -d "$OPT/src" ]; then mv "$OPT/src" "$OPT/src.old"; fi
mv "$OPT/src.new" "$OPT/src"
rm -rf "$OPT/src.old"
python3 "$OPT/src/deploy/server_requirements.py" "$OPT/src/pyproject.toml" > "$OPT/requirements-server.txt"
if [ "$DRY_RUN" = yes ] || [ ! -x /opt/stockscanner/venv/bin/python ]; then
    run python3 -m venv /opt/stockscanner/venv
fi
run /opt/stockscanner/venv/bin/pip install --quiet --upgrade pip
run /opt/stockscanner/venv/bin/pip install --quiet --requirement /opt/stockscanner/requirements-server.txt
run /opt/stockscanner/venv/bin/pip install --quiet --no-deps --force-reinstall /opt/stockscanner/src
run /opt/stockscanner/venv/bin/python -m compileall -q /opt/stockscanner/venv/lib

# --- 5. settings (secrets generated once, file 0600) ----------------------------------------
step "settings in /etc/stockscanner/stockscanner.env (0600)"
mkdir -p "$ETC"
chmod 0755 "$ETC"
secret_key="$(existing SECRET_KEY)"
[ -n "$secret_key" ] || secret_key="$(token)"
smtp_password="$(existing SMTP_PASSWORD)"
[ -z "$SMTP_PASSWORD_FILE" ] || smtp_password="$(tr -d '\r\n' < "$SMTP_PASSWORD_FILE")"
pick() {  # the option's value, else the existing file's, else the default
    local given="$1" key="$2" default="$3" old
    old="$(existing "$key")"
    if [ -n "$given" ]; then printf '%s' "$given"; elif [ -n "$old" ]; then printf '%s' "$old"; else printf '%s' "$default"; fi
}
smtp_host="$(pick "$SMTP_HOST" SMTP_HOST "")"
[ -n "$smtp_host" ] || die "--smtp-host is required: production sends verification and reset e-mails"
new_env="$(mktemp)"
trap 'rm -f "$new_env"' EXIT
umask 077
cat > "$new_env" <<ENV
# Stock Scanner service settings, written by deploy/setup-debian.sh (rerun it to change them;
# every variable is documented in deploy/README.md). Read by systemd as root: keep it 0600.
STOCKSCANNER_ENV=production
SECRET_KEY=$secret_key
DATABASE_URL=postgresql://stockscanner@/stockscanner?host=/var/run/postgresql
STOCKSCANNER_PUBLIC_URL=https://$DOMAIN
STOCKSCANNER_COOKIE_SECURE=true
STOCKSCANNER_HSTS_SECONDS=31536000
STOCKSCANNER_TRUSTED_PROXIES=127.0.0.1
STOCKSCANNER_AUTH_CACHE_S=$(pick "" STOCKSCANNER_AUTH_CACHE_S 1)
SMTP_HOST=$smtp_host
SMTP_PORT=$(pick "$SMTP_PORT" SMTP_PORT 587)
SMTP_USER=$(pick "$SMTP_USER" SMTP_USER "")
SMTP_PASSWORD=$smtp_password
MAIL_FROM=$(pick "$MAIL_FROM" MAIL_FROM "no-reply@$DOMAIN")
GOOGLE_CLIENT_ID=$(pick "$GOOGLE_CLIENT_ID" GOOGLE_CLIENT_ID "")
ENV
umask 022
put 0600 root:root "$new_env" "$ENV_FILE"

# --- 6. systemd units -----------------------------------------------------------------------
step "systemd: stockscanner@$FIRST_PORT..$((FIRST_PORT + INSTANCES - 1)), stockscanner.target, backup timer"
for unit in "stockscanner@.service" stockscanner.target stockscanner-backup.service stockscanner-backup.timer; do
    put 0644 root:root "$HERE/systemd/$unit" "$UNITS/$unit"
done
mkdir -p "$BACKUPS"
chmod 0700 "$BACKUPS"
run chown postgres:postgres "$BACKUPS"
chmod 0755 "$OPT/src/deploy/backup/pg-backup.sh"
run systemctl daemon-reload
run systemctl enable stockscanner.target
ports=()
for ((i = 0; i < INSTANCES; i++)); do
    ports+=("$((FIRST_PORT + i))")
done
wait_ready() {  # PORT: until the instance answers /ready (at most a minute)
    [ "$DRY_RUN" = yes ] && { echo "would check: http://127.0.0.1:$1/ready"; return 0; }
    for _ in $(seq 1 60); do
        if curl -fsS "http://127.0.0.1:$1/ready" > /dev/null 2>&1; then
            echo "stockscanner@$1: ready"
            return 0
        fi
        sleep 1
    done
    die "stockscanner@$1 is not ready; see: journalctl -u stockscanner@$1"
}
for port in "${ports[@]}"; do
    run systemctl enable "stockscanner@$port.service"
    # one at a time, each ready before the next goes down: nginx always has a live instance
    run systemctl restart "stockscanner@$port.service"
    wait_ready "$port"
done
for ((port = FIRST_PORT + INSTANCES; port < FIRST_PORT + 32; port++)); do  # scaled down
    if [ "$DRY_RUN" != yes ] && systemctl is-enabled --quiet "stockscanner@$port.service" 2> /dev/null; then
        run systemctl disable --now "stockscanner@$port.service"
    fi
done
run systemctl enable --now stockscanner-backup.timer

# --- 7. nginx and TLS -----------------------------------------------------------------------
step "nginx: TLS on 443, balancing over ${#ports[@]} instance(s)"
upstream="$(mktemp)"
{
    echo "# written by deploy/setup-debian.sh: one line per stockscanner@PORT instance"
    for port in "${ports[@]}"; do
        echo "server 127.0.0.1:$port max_fails=3 fail_timeout=10s;"
    done
} > "$upstream"
put 0644 root:root "$upstream" "$NGINX/snippets/stockscanner-upstream.conf"
rm -f "$upstream"
put 0644 root:root "$HERE/nginx/stockscanner.conf" "$NGINX/sites-available/stockscanner"
mkdir -p "$NGINX/sites-enabled" "$ACME"
ln -sfn ../sites-available/stockscanner "$NGINX/sites-enabled/stockscanner"
rm -f "$NGINX/sites-enabled/default"
mkdir -p "$TLS"
chmod 0750 "$TLS"
if [ ! -e "$TLS/fullchain.pem" ] || [ ! -e "$TLS/privkey.pem" ]; then
    # a self-signed pair so nginx can start (and answer Let's Encrypt's challenge on port 80)
    ( umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$DOMAIN" \
        -addext "subjectAltName=DNS:$DOMAIN" -keyout "$TLS/privkey.pem" -out "$TLS/fullchain.pem" 2> /dev/null )
    echo "self-signed certificate for $DOMAIN in /etc/stockscanner/tls (replace it, or use --letsencrypt)"
fi
run nginx -t
run systemctl enable nginx
run systemctl reload-or-restart nginx
if [ "$LETSENCRYPT" = yes ]; then
    step "Let's Encrypt certificate for $DOMAIN (HTTP-01 over port 80, renewed by certbot.timer)"
    run certbot certonly --webroot --webroot-path /var/www/letsencrypt --domain "$DOMAIN" \
        --email "$EMAIL" --agree-tos --non-interactive --keep-until-expiring \
        --deploy-hook "systemctl reload nginx"
    ln -sfn "/etc/letsencrypt/live/$DOMAIN/fullchain.pem" "$TLS/fullchain.pem"
    ln -sfn "/etc/letsencrypt/live/$DOMAIN/privkey.pem" "$TLS/privkey.pem"
    run nginx -t
    run systemctl reload nginx
fi

# --- 8. check -------------------------------------------------------------------------------
step "check: nginx in front of the instances"
if [ "$DRY_RUN" = yes ]; then
    echo "would check: https://$DOMAIN/ready through nginx on 127.0.0.1"
    echo "dry run: files rendered under $ROOT"
    exit 0
fi
curl -fsS --insecure --resolve "$DOMAIN:443:127.0.0.1" "https://$DOMAIN/ready" > /dev/null \
    || die "nginx does not reach the service; see: journalctl -u nginx"
echo "done: https://$DOMAIN/ready answers through nginx; backups in /var/backups/stockscanner"
