"""Settings from the environment. Secrets have no default outside development and demo."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from .services.accounts import id_vault

ROOT = Path(__file__).resolve().parent.parent
RULES_TIMEZONE = "Asia/Shanghai"  # fixed: every rule is in China time, whatever the server's zone
LOCALES = ("zh_CN", "en")  # Chinese first


class ConfigError(RuntimeError):
    pass


def _local_secret(instance: Path) -> str:
    """Development/demo only: a random key kept in instance/ (git-ignored), shared by every worker process."""
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker wrote it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


def from_environment(env: dict[str, str] | None = None) -> dict:
    env = dict(os.environ if env is None else env)
    mode = env.get("LVTONG_ENV", "development")  # development | demo | test | production
    instance = ROOT / "instance"
    secret = env.get("SECRET_KEY")
    if not secret:
        if mode not in ("development", "demo", "test"):
            raise ConfigError("SECRET_KEY must be set outside development and demo")
        secret = _local_secret(instance)
    try:
        id_keyring = id_vault.from_environment({**env, "LVTONG_ENV": mode})
    except id_vault.KeySettingError as exc:
        raise ConfigError(str(exc)) from None
    if id_keyring.is_dev and mode not in ("development", "demo", "test"):
        raise ConfigError("the development ID keys are public: set LVTONG_ID_KEYS and LVTONG_ID_INDEX_KEY of your own")
    return {
        "ENV_MODE": mode,
        "DEMO_MODE": mode in ("development", "demo", "test"),
        # The sign-in code on the page itself: demo, development and tests only, never in production.
        "SHOW_DEMO_CODE": mode in ("development", "demo", "test"),
        "SMS_BACKEND": env.get("SMS_BACKEND") or "log",
        "NOTIFY_CHANNEL": env.get("NOTIFY_CHANNEL") or "log",
        # Texts in 24 hours, in all and per block of numbers (first 7 digits): reaching one refuses codes and
        # raises an alarm (services/accounts/sms_budget.py; issue 17 item 4, SMS pumping).
        "SMS_DAILY_BUDGET": int(env.get("SMS_DAILY_BUDGET") or 2000),
        "SMS_PREFIX_DAILY_BUDGET": int(env.get("SMS_PREFIX_DAILY_BUDGET") or 30),
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES") or 0),  # reverse proxies in front (X-Forwarded-For)
        "COMPRESS_ALGORITHM": ["zstd", "br", "gzip"],  # whatever the browser accepts; old webviews: gzip
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "application/javascript", "text/javascript", "image/svg+xml"],
        "SECRET_KEY": secret,
        "ID_KEYRING": id_keyring,  # ID numbers at rest (services/accounts/id_vault.py: format, rotation)
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance / 'lvtong.sqlite3'}",
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(ROOT / "uploads"),
        "RULES_TIMEZONE": RULES_TIMEZONE,
        "SESSION_COOKIE_SECURE": mode == "production",
        # __Host-: the browser keeps it only if Secure, Path=/ and no Domain, so no subdomain can set or shadow it
        # (ASVS 3.3.1; plain "session" over http in development, where a __Host- cookie would be dropped).
        "SESSION_COOKIE_NAME": "__Host-session" if mode == "production" else "session",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 1024 * 1024,  # forms; photo uploads get their own limit (views/papers.py)
        "MAX_FORM_PARTS": 200,  # fields + files in one multipart body: our largest form has a few dozen
        "MAX_FORM_MEMORY_SIZE": 128 * 1024,  # one non-file field: free-text notes are a few hundred characters
        "STORAGE_BACKEND": env.get("STORAGE_BACKEND") or "local",  # local | s3 (several servers share it)
        "S3_BUCKET": env.get("S3_BUCKET"),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL"),
        "S3_ACCESS_KEY_ID": env.get("S3_ACCESS_KEY_ID"),
        "S3_SECRET_ACCESS_KEY": env.get("S3_SECRET_ACCESS_KEY"),
        "S3_REGION": env.get("S3_REGION"),
        # Pages of an application are deleted this long after it closes (flask --app wsgi papers-purge).
        "DOCUMENT_RETENTION_DAYS": int(env.get("DOCUMENT_RETENTION_DAYS") or 180),
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": RULES_TIMEZONE,
        "WTF_CSRF_TIME_LIMIT": 4 * 3600,
    }
