"""Cluster secrets: encrypted at rest, plaintext to the code, never shown, rotatable."""

import os
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from msesync_site import settings as settings_module
from syncapp.fields import SecretUnreadable, check_encryption_key, token_length
from syncapp.models import Cluster
from syncapp.registries.base import RegistryError
from syncapp.registries.http import HttpClient

SECRETS = {"password": "pw-Ünï-123", "ak": "ak-456", "sk": "sk-789"}


def raw_secrets(pk) -> tuple[str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT password, ak, sk FROM syncapp_cluster WHERE id = %s", [pk])
        return cursor.fetchone()


def make_cluster(**secrets) -> Cluster:
    return Cluster.objects.create(
        cluster_name="c", cluster_type="NACOS", connect_keys=["h:1"], user_name="u", **secrets
    )


@pytest.mark.django_db
def test_the_columns_hold_ciphertext_and_the_code_sees_plaintext():
    cluster = make_cluster(**SECRETS)
    stored = raw_secrets(cluster.pk)
    for value, secret in zip(stored, SECRETS.values(), strict=True):
        assert secret not in value and value.startswith("gAAAA")  # a Fernet token
    again = Cluster.objects.get(pk=cluster.pk)
    config = again.config()
    assert (config.password, config.ak, config.sk) == tuple(SECRETS.values())


@pytest.mark.django_db
def test_no_secret_stays_empty_and_needs_no_key():
    cluster = make_cluster()
    assert raw_secrets(cluster.pk) == ("", "", "")
    assert Cluster.objects.get(pk=cluster.pk).password == ""


@pytest.mark.django_db
def test_the_longest_secret_fits_its_column():
    longest = "\U0001f511" * 256  # 4 bytes each in UTF-8: the worst case token_length allows
    cluster = make_cluster(password=longest)
    assert len(raw_secrets(cluster.pk)[0]) <= token_length(256)
    assert Cluster.objects.get(pk=cluster.pk).password == longest


@pytest.mark.django_db
def test_a_key_rotation_keeps_old_rows_readable_and_rotate_secrets_moves_them(settings):
    old_key, new_key = settings.ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    cluster = make_cluster(**SECRETS)
    before = raw_secrets(cluster.pk)

    settings.ENCRYPTION_KEYS = [new_key, old_key]
    assert Cluster.objects.get(pk=cluster.pk).sk == SECRETS["sk"]
    out = StringIO()
    call_command("rotate_secrets", stdout=out)
    assert "1 cluster(s)" in out.getvalue()
    assert raw_secrets(cluster.pk) != before

    settings.ENCRYPTION_KEYS = [new_key]  # the old key dropped
    assert Cluster.objects.get(pk=cluster.pk).password == SECRETS["password"]


@pytest.mark.django_db
def test_a_wrong_key_is_a_clear_error_that_does_not_echo_the_value(settings):
    cluster = make_cluster(**SECRETS)
    stored = raw_secrets(cluster.pk)[0]
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretUnreadable, match="MSESYNC_ENCRYPTION_KEY") as caught:
        Cluster.objects.get(pk=cluster.pk)
    assert stored not in str(caught.value)


def test_a_malformed_key_fails_the_system_check(settings):
    settings.ENCRYPTION_KEYS = ["not-a-fernet-key"]
    assert [e.id for e in check_encryption_key(None)] == ["syncapp.E002"]


def test_a_multi_instance_install_without_a_shared_key_is_warned(settings):
    settings.ENCRYPTION_KEY_FROM_ENV = False
    settings.REDIS_URL = "redis://elsewhere:6379/0"
    assert [e.id for e in check_encryption_key(None)] == ["syncapp.W002"]
    settings.ENCRYPTION_KEY_FROM_ENV = True
    assert check_encryption_key(None) == []


def test_without_the_variable_a_key_is_generated_once_for_the_owner_only(monkeypatch, tmp_path):
    monkeypatch.delenv("MSESYNC_ENCRYPTION_KEY", raising=False)
    monkeypatch.setattr(settings_module, "DATA_DIR", tmp_path)
    first = settings_module._encryption_keys()
    assert first == settings_module._encryption_keys()
    assert os.stat(tmp_path / "encryption_key").st_mode & 0o777 == 0o600
    Fernet(first[0].encode())  # a valid key
    monkeypatch.setenv("MSESYNC_ENCRYPTION_KEY", "k1, k2")
    assert settings_module._encryption_keys() == ["k1", "k2"]


@pytest.mark.django_db
def test_the_admin_never_shows_a_secret_and_an_empty_field_keeps_it():
    cluster = make_cluster(**SECRETS)
    User.objects.create_superuser("root", password="pw")
    client = Client()
    client.login(username="root", password="pw")
    url = f"/admin/syncapp/cluster/{cluster.pk}/change/"
    page = client.get(url).content.decode()
    assert not [s for s in SECRETS.values() if s in page]
    assert 'type="password"' in page
    form = {
        "cluster_name": "c",
        "cluster_type": "NACOS",
        "connect_keys": '["h:9"]',
        "namespaces": "",
        "user_name": "u",
        "password": "",
        "ak": "",
        "sk": "new-sk",
    }
    assert client.post(url, form).status_code == 302
    saved = Cluster.objects.get(pk=cluster.pk)
    assert (saved.password, saved.ak, saved.sk) == (SECRETS["password"], SECRETS["ak"], "new-sk")
    assert saved.connect_keys == ["h:9"]


def test_an_unreachable_url_with_credentials_is_reported_without_them():
    client = HttpClient(["http://user:S3cr3t-pw@127.0.0.1:1"], "/eureka")
    with pytest.raises(RegistryError) as caught:
        client.request("GET", "/apps")
    assert "S3cr3t-pw" not in str(caught.value) and "127.0.0.1:1" in str(caught.value)


# --- migration 0003: existing plaintext is encrypted, and back ------------------------


@pytest.fixture
def migrator():
    """Moves the test database between migrations and always returns it to the latest."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("syncapp")

    def migrate(target):
        executor.loader.build_graph()
        executor.migrate([("syncapp", target)])

    yield migrate
    executor.loader.build_graph()
    executor.migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_migration_0003_encrypts_existing_plaintext_and_reverses(migrator):
    migrator("0002_task_keep_case")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO syncapp_cluster (cluster_name, cluster_type, connect_keys, namespaces,"
            " user_name, password, ak, sk, updated_at)"
            " VALUES ('old', 'NACOS', '[]', '', 'u', 'plain-pw', '', 'plain-sk', '2026-01-01')"
        )
    migrator("0003_encrypted_secrets_job_duration")
    [(pk, password, ak, sk)] = _raw_rows()
    assert password.startswith("gAAAA") and "plain" not in password + sk and ak == ""
    cluster = Cluster.objects.get(pk=pk)
    assert (cluster.password, cluster.ak, cluster.sk) == ("plain-pw", "", "plain-sk")

    migrator("0002_task_keep_case")
    assert _raw_rows() == [(pk, "plain-pw", "", "plain-sk")]


def _raw_rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, password, ak, sk FROM syncapp_cluster")
        return cursor.fetchall()
