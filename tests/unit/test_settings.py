"""Settings helpers, system checks and the models/migrations guard."""

from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from msesync_site.env import env_bool, mysql_database
from syncapp.apps import check_refresh_interval


def test_a_jdbc_url_as_mse_sync_users_write_it_is_accepted():
    db = mysql_database("jdbc:mysql://db.local:3307/sync?useSSL=false", "u", "p")
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"], db["PASSWORD"]) == (
        "db.local",
        "3307",
        "sync",
        "u",
        "p",
    )


def test_a_plain_mysql_url_defaults_its_port():
    db = mysql_database("mysql://db.local/sync", "u", "p")
    assert (db["PORT"], db["NAME"]) == ("3306", "sync")


def test_a_url_that_is_not_mysql_is_refused():
    with pytest.raises(ImproperlyConfigured, match="MYSQL_URL"):
        mysql_database("postgres://db/x", "u", "p")


def test_booleans_are_strict(monkeypatch):
    monkeypatch.setenv("FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG")
    monkeypatch.setenv("FLAG", "false")
    assert env_bool("FLAG", True) is False


def test_a_refresh_interval_below_ten_seconds_warns(settings):
    settings.REFRESH_INTERVAL = 5
    assert [w.id for w in check_refresh_interval(None)] == ["syncapp.W001"]
    settings.REFRESH_INTERVAL = 60
    assert check_refresh_interval(None) == []


@pytest.mark.django_db
def test_models_match_migrations():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def test_every_registry_kind_names_an_importable_adapter():
    from syncapp.registries import REGISTRIES, USER_KINDS, registry_class

    assert set(USER_KINDS) <= set(REGISTRIES)
    for kind in REGISTRIES:
        assert registry_class(kind).kind == kind
    with pytest.raises(ValueError, match="known kinds"):
        registry_class("ETCD")
