#!/bin/sh
# Secrets and settings for compose.yaml, made once and kept (rerunning changes nothing that
# exists). Everything is written with mode 0600 in this folder:
#   secrets/db.env     POSTGRES_PASSWORD and PGPASSWORD (db and backup services)
#   stockscanner.env   the api service's settings: SECRET_KEY, DATABASE_URL, the production
#                      HTTPS settings; fill in SMTP_* and STOCKSCANNER_PUBLIC_URL (README.md)
#   tls/               a self-signed certificate for DOMAIN until you put a real one there
# Usage: ./gen-secrets.sh [DOMAIN]      (default: localhost)
set -eu
cd "$(dirname "$0")"
domain=${1:-localhost}
umask 077

token() {
    # 32 random bytes, URL-safe base64 without padding: 43 characters
    openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n'
}

mkdir -p secrets tls
if [ ! -s secrets/db.env ]; then
    pw=$(token)
    printf 'POSTGRES_PASSWORD=%s\nPGPASSWORD=%s\n' "$pw" "$pw" > secrets/db.env
    echo "wrote secrets/db.env"
fi
pw=$(sed -n 's/^POSTGRES_PASSWORD=//p' secrets/db.env)

if [ ! -s stockscanner.env ]; then
    cat > stockscanner.env <<ENV
# Stock Scanner service settings (deploy/README.md documents every variable).
SECRET_KEY=$(token)
DATABASE_URL=postgresql://stockscanner:$pw@db:5432/stockscanner
STOCKSCANNER_PUBLIC_URL=https://$domain
STOCKSCANNER_COOKIE_SECURE=true
STOCKSCANNER_HSTS_SECONDS=31536000
STOCKSCANNER_AUTH_CACHE_S=1
# production refuses to start without an SMTP server (verification and reset e-mails)
SMTP_HOST=
SMTP_PORT=587
SMTP_USER=
SMTP_PASSWORD=
MAIL_FROM=no-reply@$domain
# Google sign-in: the OAuth client id (empty = off)
GOOGLE_CLIENT_ID=
ENV
    echo "wrote stockscanner.env: fill in SMTP_HOST (and SMTP_USER/SMTP_PASSWORD)"
fi

if [ ! -s tls/fullchain.pem ] || [ ! -s tls/privkey.pem ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$domain" \
        -addext "subjectAltName=DNS:$domain" \
        -keyout tls/privkey.pem -out tls/fullchain.pem 2> /dev/null
    # nginx's master process reads the key as root; the certificate may be world-readable
    chmod 0644 tls/fullchain.pem
    echo "wrote a self-signed certificate for $domain into tls/ (replace it with a real one)"
fi
