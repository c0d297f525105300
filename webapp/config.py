"""Settings from the environment. Secrets have no default outside development and demo."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES_TIMEZONE = "Asia/Shanghai"  # fixed: every rule is in China time, whatever the server's zone


class ConfigError(RuntimeError):
    pass


def from_environment(env: dict[str, str] | None = None) -> dict:
    env = dict(os.environ if env is None else env)
    mode = env.get("LVTONG_ENV", "development")  # development | demo | test | production
    instance = ROOT / "instance"
    secret = env.get("SECRET_KEY")
    if not secret:
        if mode not in ("development", "demo", "test"):
            raise ConfigError("SECRET_KEY must be set outside development and demo")
        secret = secrets.token_hex(32)  # per process: sessions do not survive a restart, which is fine here
    return {
        "ENV_MODE": mode,
        "DEMO_MODE": mode in ("development", "demo", "test"),
        "SECRET_KEY": secret,
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance / 'lvtong.sqlite3'}",
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(ROOT / "uploads"),
        "RULES_TIMEZONE": RULES_TIMEZONE,
        "SESSION_COOKIE_SECURE": mode == "production",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": RULES_TIMEZONE,
        "LANGUAGES": ["zh_CN", "en"],
        "WTF_CSRF_TIME_LIMIT": 4 * 3600,
    }
