"""Nothing but the health probe, static files and the login pages answers an anonymous caller;
API tokens for scripts; the first admin user."""

import os
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from syncapp.models import Cluster, ServiceSync, SyncTask
from tests.support.urlconf import endpoints, is_public, login_paths

pytestmark = pytest.mark.django_db
UNSAFE = ("post", "put", "patch", "delete")
REFUSED = (401, 403)


@pytest.fixture
def rows():
    """One object of each kind, so every detail route points at something that exists."""
    a = Cluster.objects.create(cluster_name="a", cluster_type="NACOS", connect_keys=["h:1"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="NACOS", connect_keys=["h:2"])
    task = SyncTask.objects.create(source=a, destination=b)
    ServiceSync.objects.create(task=task, service="orders")
    User.objects.create_superuser("root", password="pw")
    return task


def existing_pk(model, param: str) -> str:
    found = model.objects.order_by("pk").first() if model is not None else None
    return str(found.pk) if found else "1"


def all_paths() -> list[str]:
    return sorted({e.path for e in endpoints(existing_pk)})


def api_paths() -> list[str]:
    return [p for p in all_paths() if p.startswith("/api/")]


def page_paths() -> list[str]:
    return [p for p in all_paths() if not p.startswith("/api/") and not is_public(p)]


def test_the_enumeration_sees_api_admin_and_ops_routes(rows):
    paths = all_paths()
    task_pk = str(rows.pk)
    for expected in (
        "/api/clusters/",
        f"/api/tasks/{task_pk}/pause/",
        "/api/schema/",
        f"/admin/syncapp/cluster/{Cluster.objects.first().pk}/change/",
        "/metrics",
        "/healthz",
        "/",
    ):
        assert expected in paths, expected


def test_every_api_endpoint_refuses_anonymous_callers(rows):
    anonymous = APIClient()
    for path in api_paths():
        assert anonymous.get(path).status_code in REFUSED, path
        for method in UNSAFE:
            status = getattr(anonymous, method)(path, {}, format="json").status_code
            assert status in REFUSED, (method, path, status)


def test_every_non_public_page_sends_anonymous_callers_to_a_login(rows):
    anonymous = Client()
    logins = login_paths()
    for path in page_paths():
        for method in ("get", "post"):
            response = getattr(anonymous, method)(path, follow=True)
            final = response.request["PATH_INFO"]
            # 405: a POST-only view (logout) refusing a GET shows nothing; its POST is checked.
            refused = response.status_code in (*REFUSED, 405)
            assert refused or (response.status_code == 200 and final in logins), (
                method,
                path,
                response.status_code,
                final,
            )


def test_public_pages_are_public(rows):
    anonymous = Client()
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    for path in login_paths():
        assert anonymous.get(path).status_code == 200


def test_a_wrong_or_revoked_token_is_refused(rows):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/clusters/").status_code in REFUSED


# --- manage.py api_token ---------------------------------------------------------------


def api_token(*args) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_api_token_prints_a_token_that_opens_the_api_and_metrics(rows):
    key = api_token("root")
    assert key == api_token("root"), "the same token until rotated"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/clusters/").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.post(f"/api/tasks/{rows.pk}/pause/").status_code == 200


def test_rotating_revokes_the_old_token(rows):
    old = api_token("root")
    new = api_token("root", "--rotate")
    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/clusters/").status_code in REFUSED
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get("/api/clusters/").status_code == 200


def test_api_token_for_an_unknown_or_inactive_user_fails_and_creates_nothing(rows):
    with pytest.raises(CommandError, match="no user 'ghost'"):
        api_token("ghost")
    User.objects.create_user("gone", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        api_token("gone")
    assert not Token.objects.exists()


# --- manage.py ensure_admin --------------------------------------------------------------


def test_ensure_admin_creates_the_first_admin_from_the_environment_once(monkeypatch):
    monkeypatch.setenv("MSESYNC_ADMIN_PASSWORD", "first-pw")
    monkeypatch.setenv("MSESYNC_ADMIN_USER", "boss")
    call_command("ensure_admin", stdout=StringIO())
    assert Client().login(username="boss", password="first-pw")
    monkeypatch.setenv("MSESYNC_ADMIN_PASSWORD", "other-pw")
    call_command("ensure_admin", stdout=StringIO())
    assert User.objects.count() == 1
    assert Client().login(username="boss", password="first-pw"), "an existing admin is kept"


def test_ensure_admin_without_a_password_writes_a_generated_one_readable_by_the_owner_only(
    monkeypatch, settings, tmp_path
):
    monkeypatch.delenv("MSESYNC_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("MSESYNC_ADMIN_USER", raising=False)
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    password = (tmp_path / "admin-password").read_text().strip()
    assert password in out.getvalue()
    assert os.stat(tmp_path / "admin-password").st_mode & 0o777 == 0o600
    assert Client().login(username="admin", password=password)
