"""Django settings for msesync, read from the environment.

Standalone by default (SQLite file, file-system Celery broker: no server needed);
multi-instance when MYSQL_URL/MYSQL_USER_NAME/MYSQL_PASSWORD and REDIS_URL are set.
"""

import base64
import os
import secrets
import socket
from pathlib import Path

from msesync_site.env import (
    env_bool,
    env_float,
    env_str,
    mysql_database,
    sqlite_database,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("MSESYNC_DATA_DIR") or BASE_DIR / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The env's key, else one generated once and kept beside the data (never in git)."""
    if key := env_str("MSESYNC_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _encryption_keys() -> list[str]:
    """Fernet keys for the clusters' password/ak/sk at rest (syncapp/fields.py).

    MSESYNC_ENCRYPTION_KEY: comma-separated, newest first; the first encrypts, all decrypt, so
    a rotation keeps old rows readable until `manage.py rotate_secrets` rewrites them. Unset:
    one generated once beside the data, like the secret key (every standalone process shares
    DATA_DIR; hosts of a multi-instance install must share the variable instead).
    """
    if keys := env_str("MSESYNC_ENCRYPTION_KEY"):
        return [k.strip() for k in keys.split(",") if k.strip()]
    path = DATA_DIR / "encryption_key"
    try:  # O_EXCL: processes starting together agree on one key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return [path.read_text().strip()]
    with os.fdopen(fd, "w") as out:
        out.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    return [path.read_text().strip()]


ENCRYPTION_KEYS = _encryption_keys()
ENCRYPTION_KEY_FROM_ENV = bool(env_str("MSESYNC_ENCRYPTION_KEY"))
DEBUG = env_bool("MSESYNC_DEBUG", False)
ALLOWED_HOSTS = env_str("MSESYNC_ALLOWED_HOSTS", "*").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in env_str("MSESYNC_CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "syncapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "msesync_site.urls"
WSGI_APPLICATION = "msesync_site.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- storage: MySQL only when all three variables are set, as MSE Sync does ---
MYSQL_URL = env_str("MYSQL_URL")
MYSQL_USER_NAME = env_str("MYSQL_USER_NAME")
MYSQL_PASSWORD = env_str("MYSQL_PASSWORD")
if MYSQL_URL and MYSQL_USER_NAME and MYSQL_PASSWORD:
    DATABASES = {"default": mysql_database(MYSQL_URL, MYSQL_USER_NAME, MYSQL_PASSWORD)}
else:
    DATABASES = {"default": sqlite_database(DATA_DIR / "msesync.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing one (fresh clones, tests)
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
        # Scripts and Prometheus: `Authorization: Token <key>` (manage.py api_token USER).
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "msesync API",
    "VERSION": "1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# --- sync timing ---
# Full reconcile of everything (recovery), as MSE Sync's MSESYNC_DAEMON_REFRESH_INTERVAL.
REFRESH_INTERVAL = env_float("MSESYNC_DAEMON_REFRESH_INTERVAL", 60.0)
# Services of a task a refresh re-verifies in full (those verified longest ago, in turn): a
# REFRESH_ROUNDS-th of them, at least REFRESH_MIN_BATCH and at most REFRESH_BATCH. Each service
# is re-verified every 10 refresh intervals (10 minutes) up to 10,000 services a task, every
# interval up to 100, every ceil(services / 1,000) intervals beyond 10,000: the cost stays
# bounded at any size. (1,000 per interval at any size was every service every minute at
# 1,000 x 10, Nacos -> Nacos: ~6 % of a core at rest, of issue 12's 10 %.)
REFRESH_BATCH = int(env_float("MSESYNC_REFRESH_BATCH", 1000))
REFRESH_ROUNDS = max(1, int(env_float("MSESYNC_REFRESH_ROUNDS", 10)))
REFRESH_MIN_BATCH = 100
# The migration cockpit reads PHASE_BATCH services' providers and subscribers on both sides
# every PHASE_INTERVAL seconds, over all tasks in turn (syncapp/cockpit/rounds.py): 10,000
# services are walked in about 50 minutes at the defaults, at a fixed cost per round. At 15 s
# the reads added 9-16 % to the product's CPU at rest at 10,000 x 3 (bench.cockpit), over
# issue 16's 10 %.
PHASE_INTERVAL = env_float("MSESYNC_PHASE_INTERVAL", 30.0)
PHASE_BATCH = int(env_float("MSESYNC_PHASE_BATCH", 100))
# How often each task's services are listed and re-synced (the polling change feed).
SCAN_INTERVAL = env_float("MSESYNC_SCAN_INTERVAL", 5.0)
# Lease renewal of what we registered; Nacos marks an HTTP instance unhealthy after 15 s.
HEARTBEAT_INTERVAL = env_float("MSESYNC_HEARTBEAT_INTERVAL", 5.0)

# --- nodes: each keeper (syncapp/keeper.py) is a member; a dead one's share moves on ---
NODE_ID = env_str("MSESYNC_NODE_ID") or f"{socket.gethostname()}-{os.getpid()}"
# A node silent this long is dead: its feeds and leases go to the others.
MEMBER_TTL = env_float("MSESYNC_MEMBER_TTL", 3.0)
# Where this node's keeper listens for the other keepers' sockets (host:port, 0 = any port):
# they see it die within milliseconds when the socket closes. Other hosts must reach it.
PEER_ADDRESS = env_str("MSESYNC_PEER_ADDRESS") or "127.0.0.1:0"

# --- Celery: Redis when REDIS_URL is set, else a file-system broker needing no server ---
REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = DATA_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A job taken by a worker that died is handed to another after this long (acks late).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60}
    # Every node runs a beat; a Redis lock lets one lead, and a standby takes over within
    # the lock timeout when the leader's node dies (celery-redbeat; msesync_site/beat.py).
    CELERY_BEAT_SCHEDULER = "msesync_site.beat.LeaderScheduler"
    CELERY_REDBEAT_REDIS_URL = REDIS_URL
    CELERY_REDBEAT_KEY_PREFIX = "msesync:redbeat"
    CELERY_REDBEAT_LOCK_TIMEOUT = int(env_float("MSESYNC_BEAT_LOCK_TIMEOUT", 5))
    CELERY_BEAT_MAX_LOOP_INTERVAL = 1  # how often the lock is extended and standbys retry
else:
    (BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "msesyncfs://"  # msesync_site/fsbroker.py
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        # kombu's default is ./control, relative to wherever a process was started.
        "control_folder": str(BROKER_DIR / "control"),
        # A directory listing is cheap; 1 s (kombu's default) would add up to 1 s per job.
        "polling_interval": 0.1,
    }
CELERY_TASK_IGNORE_RESULT = True
# Scans wait in a queue of their own: a new task's scan is taken beside a full sync's backlog
# of service batches (a worker takes from each of its queues in turn), not after it.
SCANS_QUEUE = "scans"
CELERY_TASK_ROUTES = {
    f"workers.tasks.{name}": {"queue": SCANS_QUEUE}
    for name in ("scan_all", "refresh_all", "scan_task", "sync_configs")
}
CELERY_TASK_ACKS_LATE = True  # a job whose worker dies is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "scan": {"task": "workers.tasks.scan_all", "schedule": SCAN_INTERVAL},
    "refresh": {"task": "workers.tasks.refresh_all", "schedule": REFRESH_INTERVAL},
    "phases": {"task": "workers.tasks.read_phases", "schedule": PHASE_INTERVAL},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("MSESYNC_LOG_LEVEL", "INFO")},
    "loggers": {
        "urllib3": {"level": "WARNING"},
        "kazoo": {"level": "WARNING"},
        # One line per job received/succeeded drowns everything else at thousands of services.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
    },
}
