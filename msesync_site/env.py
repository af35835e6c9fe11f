"""Tiny strict readers of the environment, so a typo fails loudly at start-up."""

import os
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = env_str(name).lower()
    if not raw:
        return default
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_float(name: str, default: float) -> float:
    raw = env_str(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def mysql_database(url: str, user: str, password: str) -> dict:
    """Django DATABASES entry from an MSE Sync style URL.

    MSE Sync users write `jdbc:mysql://host:3306/db?params`; plain `mysql://` works too.
    """
    parsed = urlparse(url.removeprefix("jdbc:"))
    if parsed.scheme not in ("mysql", "mariadb") or not parsed.hostname:
        raise ImproperlyConfigured(
            f"MYSQL_URL must look like jdbc:mysql://host:3306/db, not {url!r}"
        )
    name = unquote(parsed.path.lstrip("/")) or "msesync"
    return {
        "ENGINE": "django.db.backends.mysql",
        "NAME": name,
        "USER": user,
        "PASSWORD": password,
        "HOST": parsed.hostname,
        "PORT": str(parsed.port or 3306),
        "OPTIONS": {"charset": "utf8mb4"},
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"NAME": f"test_{name}", "CHARSET": "utf8mb4"},
    }


def sqlite_database(path) -> dict:
    # WAL and IMMEDIATE transactions let the web server, the worker threads and beat
    # share one file without "database is locked" under normal load.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Kept across jobs: Celery's Django fixup closes a connection after each job
        # otherwise, and a scan's 500 batches opened (and set up) 500 connections.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
