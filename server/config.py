"""Service settings, read from the environment (``Settings.from_env``).

``STOCKSCANNER_ENV`` is ``development`` (default; also used by the embedded service) or
``production``. Production refuses to start (``ConfigError``) without a strong ``SECRET_KEY``
and the HTTPS-only settings; development generates a key into a 0600 file on first start.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

#: Secrets that ship in tutorials and templates; never accepted, even when long enough.
KNOWN_DEFAULT_KEYS = frozenset({
    "django-insecure-development-key", "changeme", "change-me", "secret", "secret-key",
    "development", "dev", "insecure", "your-secret-key", "supersecret", "please-change-me",
})
#: 32 random bytes in URL-safe base64 (without padding) are 43 characters.
MIN_SECRET_CHARS = 43


class ConfigError(ValueError):
    """A setting is missing or unsafe; the message is one sentence for the operator."""


def _data_dir() -> Path:
    from engine import paths

    return paths.data_dir()


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is not a strong secret (``None`` when it is): at least 43 characters (32
    random bytes in base64), not a known default, and not a low-variety string."""
    if key.strip().lower() in KNOWN_DEFAULT_KEYS or "insecure" in key.lower():
        return "SECRET_KEY is a known default; generate one with `python -c \"import secrets; print(secrets.token_urlsafe(32))\"`"
    if len(key) < MIN_SECRET_CHARS:
        return (f"SECRET_KEY has {len(key)} characters; it needs at least {MIN_SECRET_CHARS} "
                "(32 random bytes in base64)")
    if len(set(key)) < 16:
        return "SECRET_KEY repeats too few characters to be random; generate a new one"
    return None


def load_or_create_key(path: Path) -> str:
    """The secret in ``path``, created with 32 random bytes and mode 0600 when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if secret_key_problem(key):
            raise ConfigError(f"the key file {path} holds a weak key; delete it to make a new one")
        return key
    key = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key


def normalise_database_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` go through psycopg 3; anything else unchanged."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    env: str = "development"
    #: JWT claims: who issues the tokens and who they are for.
    issuer: str = "stockscanner"
    audience: str = "stockscanner-api"
    access_ttl_s: int = 900
    refresh_ttl_s: int = 30 * 24 * 3600
    email_token_ttl_s: int = 3600
    trusted_device_days: int = 30
    #: argon2id cost (OWASP / ASVS: m=19 MiB, t=2, p=1 at least).
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    cookie_secure: bool = False
    hsts_seconds: int = 0
    #: addresses whose X-Forwarded-For / -Proto uvicorn trusts ("" = none)
    trusted_proxies: str = ""
    max_body_bytes: int = 64 * 1024
    page_limit_max: int = 100
    #: login throttling: failures before backoff starts, the first delay and its cap
    login_free_failures: int = 5
    login_backoff_base_s: int = 2
    login_backoff_max_s: int = 900
    ip_failures_per_window: int = 50
    ip_window_s: int = 900
    #: seconds a worker may trust its cached "this session is live" (server/authcache.py);
    #: bounds how late another worker sees a logout; 0 = ask the database on every request
    auth_cache_s: float = 1.0
    #: Google sign-in (RFC 8252 + PKCE on the client; server/routers/google.py): the OAuth
    #: client id ID tokens must be issued to; "" turns the endpoint off
    google_client_id: str = ""
    google_issuers: tuple[str, ...] = ("https://accounts.google.com", "accounts.google.com")
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = "no-reply@stockscanner.invalid"
    #: base of the links in e-mails (the client opens them)
    public_url: str = "http://127.0.0.1:8765"
    #: the TUF update repository folder (``stockscanner release publish --out``) served at
    #: ``/updates/``; empty: not served (README "Updates")
    updates_dir: str = ""
    #: billing (server/billing/): "sandbox", "paypal" or "" (= sandbox in development, off
    #: in production). PayPal's credentials come from the environment only, never a file.
    billing_provider: str = ""
    paypal_client_id: str = ""
    paypal_client_secret: str = ""
    paypal_webhook_id: str = ""
    paypal_api_base: str = "https://api-m.sandbox.paypal.com"
    #: "tier-period=PAYPAL_PLAN_ID" pairs, e.g. ("basic-monthly=P-1AB...", ...)
    paypal_plans: tuple[str, ...] = ()
    #: how webhooks are verified: "api" (POST /v1/notifications/verify-webhook-signature) or
    #: "cert" (PayPal's documented certificate check, done here)
    paypal_verify: str = "api"
    #: hosts a webhook's PAYPAL-CERT-URL may point at (https only; tests add a loopback host)
    paypal_cert_hosts: tuple[str, ...] = ("api.paypal.com", "api.sandbox.paypal.com",
                                          "api-m.paypal.com", "api-m.sandbox.paypal.com")
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]

    def check(self) -> "Settings":
        """Refuse unsafe settings (``ConfigError``, one sentence); returns ``self``."""
        if self.env not in ("development", "production"):
            raise ConfigError(f"STOCKSCANNER_ENV must be development or production, not {self.env!r}")
        if self.argon2_memory_kib < 19 * 1024 or self.argon2_time_cost < 2 or self.argon2_parallelism < 1:
            raise ConfigError("argon2 parameters below OWASP's minimum (m=19 MiB, t=2, p=1)")
        if self.production:
            problem = secret_key_problem(self.secret_key)
            if problem:
                raise ConfigError(problem)
            if not self.cookie_secure:
                raise ConfigError("production needs STOCKSCANNER_COOKIE_SECURE=true (HTTPS-only cookies)")
            if self.hsts_seconds < 31536000:
                raise ConfigError("production needs STOCKSCANNER_HSTS_SECONDS of at least 31536000 (one year)")
            if not self.trusted_proxies:
                raise ConfigError("production needs STOCKSCANNER_TRUSTED_PROXIES (the TLS proxy's address)")
            if not self.smtp_host:
                raise ConfigError("production needs SMTP_HOST so verification and reset e-mails are sent")
            if not self.public_url.startswith("https://"):
                raise ConfigError("production needs STOCKSCANNER_PUBLIC_URL to start with https://")
            if self.google_client_id and not self.google_jwks_url.startswith("https://"):
                raise ConfigError("production needs GOOGLE_JWKS_URL to start with https://")
            if self.billing_provider == "sandbox":
                raise ConfigError("production refuses BILLING_PROVIDER=sandbox (its payments are not real)")
            if self.billing_provider == "paypal" and not self.paypal_api_base.startswith("https://"):
                raise ConfigError("production needs PAYPAL_API_BASE to start with https://")
        if self.billing_provider not in ("", "sandbox", "paypal"):
            raise ConfigError(f"BILLING_PROVIDER must be sandbox or paypal, not {self.billing_provider!r}")
        if self.billing_provider == "paypal":
            missing = [name for name, value in (("PAYPAL_CLIENT_ID", self.paypal_client_id),
                                                ("PAYPAL_CLIENT_SECRET", self.paypal_client_secret),
                                                ("PAYPAL_WEBHOOK_ID", self.paypal_webhook_id)) if not value]
            if missing:
                raise ConfigError(f"BILLING_PROVIDER=paypal needs {', '.join(missing)} in the environment")
            if self.paypal_verify not in ("api", "cert"):
                raise ConfigError(f"PAYPAL_VERIFY must be api or cert, not {self.paypal_verify!r}")
        elif secret_key_problem(self.secret_key):
            raise ConfigError(secret_key_problem(self.secret_key) or "")
        return self

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        """Settings from ``env`` (default ``os.environ``), checked (``ConfigError``)."""
        e = dict(os.environ if env is None else env)
        mode = e.get("STOCKSCANNER_ENV", "development") or "development"
        url = e.get("DATABASE_URL") or f"sqlite:///{_data_dir() / 'server.sqlite3'}"
        key = e.get("SECRET_KEY", "")
        if not key:
            if mode == "production":
                raise ConfigError("production needs SECRET_KEY (32 random bytes in base64)")
            key_file = Path(e.get("STOCKSCANNER_SECRET_FILE") or _data_dir() / "server-secret.key")
            key = load_or_create_key(key_file)
        return cls(
            database_url=normalise_database_url(url),
            secret_key=key,
            env=mode,
            cookie_secure=_flag(e, "STOCKSCANNER_COOKIE_SECURE", False),
            hsts_seconds=_int(e, "STOCKSCANNER_HSTS_SECONDS", 0, 0, 10 * 31536000),
            trusted_proxies=e.get("STOCKSCANNER_TRUSTED_PROXIES", ""),
            smtp_host=e.get("SMTP_HOST", ""),
            smtp_port=_int(e, "SMTP_PORT", 587, 1, 65535),
            smtp_user=e.get("SMTP_USER", ""),
            smtp_password=e.get("SMTP_PASSWORD", ""),
            mail_from=e.get("MAIL_FROM", "no-reply@stockscanner.invalid"),
            public_url=e.get("STOCKSCANNER_PUBLIC_URL", "http://127.0.0.1:8765"),
            auth_cache_s=_int(e, "STOCKSCANNER_AUTH_CACHE_S", 1, 0, 60),
            google_client_id=e.get("GOOGLE_CLIENT_ID", ""),
            google_issuers=(tuple(i.strip() for i in e["GOOGLE_ISSUER"].split(",") if i.strip())
                            if e.get("GOOGLE_ISSUER") else cls.google_issuers),
            google_jwks_url=e.get("GOOGLE_JWKS_URL") or cls.google_jwks_url,
            updates_dir=e.get("STOCKSCANNER_UPDATES_DIR", ""),
            billing_provider=e.get("BILLING_PROVIDER", ""),
            paypal_client_id=e.get("PAYPAL_CLIENT_ID", ""),
            paypal_client_secret=e.get("PAYPAL_CLIENT_SECRET", ""),
            paypal_webhook_id=e.get("PAYPAL_WEBHOOK_ID", ""),
            paypal_api_base=(e.get("PAYPAL_API_BASE") or cls.paypal_api_base).rstrip("/"),
            paypal_plans=tuple(p.strip() for p in e.get("PAYPAL_PLANS", "").split(",") if p.strip()),
            paypal_verify=e.get("PAYPAL_VERIFY") or "api",
            paypal_cert_hosts=(tuple(h.strip() for h in e["PAYPAL_CERT_HOSTS"].split(",") if h.strip())
                               if e.get("PAYPAL_CERT_HOSTS") else cls.paypal_cert_hosts),
        ).check()
