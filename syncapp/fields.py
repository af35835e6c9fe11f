"""Secrets at rest: a CharField whose column holds a Fernet token, never the plaintext.

The model attribute is the plaintext (so Cluster.config() and the importer's diff are
unchanged); only the database sees ciphertext. Keys: settings.ENCRYPTION_KEYS (from
MSESYNC_ENCRYPTION_KEY, newest first), see msesync_site/settings.py.
"""

import functools
import math

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models

KEY_HELP = (
    "MSESYNC_ENCRYPTION_KEY must be comma-separated Fernet keys (32 url-safe base64 bytes), "
    'e.g. python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class SecretUnreadable(ImproperlyConfigured):
    """A stored secret no configured key opens: the key changed without keeping the old one."""


@functools.cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(KEY_HELP)
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(KEY_HELP) from None


def fernet() -> MultiFernet:
    # Keyed by the key list so tests that override the setting get their own instance.
    return _fernet_for(tuple(settings.ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """A token of the current (first) key; "" stays "" so "no secret" needs no key."""
    return fernet().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # Never echo the stored value: a plaintext left over would be the secret itself.
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with MSESYNC_ENCRYPTION_KEY: keep the old key "
            "after the new one in the list until `manage.py rotate_secrets` has run"
        ) from None


def is_token(value: str) -> bool:
    """Whether `value` opens with a configured key (the data migration's plaintext test)."""
    try:
        fernet().decrypt(value.encode())
    except InvalidToken:
        return False
    return True


def token_length(chars: int) -> int:
    """Longest token for `chars` characters: 4 UTF-8 bytes each, AES-padded, Fernet-framed
    (version 1 + timestamp 8 + IV 16 + HMAC 32 bytes), base64."""
    padded = (chars * 4 // 16 + 1) * 16
    return 4 * math.ceil((1 + 8 + 16 + padded + 32) / 3)


class EncryptedCharField(models.CharField):
    """max_length limits the plaintext (forms, API, model validation); the column is as wide
    as the longest token for it."""

    description = "A string stored encrypted (Fernet)"

    def db_type_parameters(self, connection):
        return {
            **super().db_type_parameters(connection),
            "max_length": token_length(self.max_length),
        }

    def from_db_value(self, value, expression, connection):
        return value if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value is None else encrypt(value)


@checks.register(checks.Tags.security, deploy=False)
def check_encryption_key(app_configs, **kwargs):
    """Keys must parse; hosts sharing a MySQL database must share the key, not generate one."""
    try:
        fernet()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="syncapp.E002")]
    # A Redis broker or MySQL storage is what lets several hosts share one installation.
    multi_instance = bool(settings.REDIS_URL) or settings.DATABASES["default"]["ENGINE"].endswith(
        "mysql"
    )
    if multi_instance and not settings.ENCRYPTION_KEY_FROM_ENV:
        return [
            checks.Warning(
                "MSESYNC_ENCRYPTION_KEY is unset: this host generated its own key in "
                f"{settings.DATA_DIR}; other hosts on the same database cannot read the "
                "secrets it writes",
                hint="set the same MSESYNC_ENCRYPTION_KEY on every host",
                id="syncapp.W002",
            )
        ]
    return []
