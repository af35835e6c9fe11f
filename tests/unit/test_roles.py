"""Roles: viewers read, operators also run tasks, admins change things; the same in the API,
the console and the admin. (Anonymous callers: test_auth.py.)"""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.roles import ADMIN, OPERATOR, VIEWER
from tests.support.rows import nacos_task

pytestmark = pytest.mark.django_db
NEW_CLUSTER = {"cluster_name": "c", "cluster_type": "CONSUL", "connect_keys": ["h:3"]}


@pytest.fixture
def task():
    return nacos_task()


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def console_as(user, staff: bool = False) -> Client:
    if staff:
        User.objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def api_writes(client: APIClient, task: SyncTask) -> dict[str, int]:
    """The status of every kind of API write but the task actions."""
    cluster = task.source_id
    return {
        "create cluster": client.post("/api/clusters/", NEW_CLUSTER, format="json").status_code,
        "edit cluster": client.patch(
            f"/api/clusters/{cluster}/", {"namespaces": "x"}, format="json"
        ).status_code,
        "delete cluster": client.delete(f"/api/clusters/{cluster}/").status_code,
        "edit task": client.patch(
            f"/api/tasks/{task.pk}/", {"service_match_pattern": "a.*"}, format="json"
        ).status_code,
        "delete task": client.delete(f"/api/tasks/{task.pk}/").status_code,
        "add service": client.post(
            "/api/services/", {"task": task.pk, "service": "s"}, format="json"
        ).status_code,
    }


def unchanged(task: SyncTask) -> bool:
    return (
        Cluster.objects.count() == 2
        and Cluster.objects.get(pk=task.source_id).namespaces == ""
        and SyncTask.objects.get().service_match_pattern == ".*"
        and not SyncTask.objects.get().paused
        and not ServiceSync.objects.exists()
    )


def test_a_viewer_reads_the_api_and_writes_nothing(user_with_role, task):
    client = api_as(user_with_role(VIEWER))
    for path in ("/api/clusters/", "/api/tasks/", "/api/services/", f"/api/tasks/{task.pk}/"):
        assert client.get(path).status_code == 200, path
    assert set(api_writes(client, task).values()) == {403}
    for action in ("pause", "resume", "resync"):
        assert client.post(f"/api/tasks/{task.pk}/{action}/").status_code == 403, action
    assert unchanged(task)


def test_a_viewer_reads_the_console_and_writes_nothing(user_with_role, task):
    client = console_as(user_with_role(VIEWER))
    assert client.get("/").status_code == 200
    assert client.get(f"/tasks/{task.pk}/").status_code == 200
    assert client.get("/clusters/").status_code == 200
    page = client.get("/").content.decode()
    assert 'data-action="pause"' not in page and "Import Config</a>" not in page
    for path in (
        f"/tasks/{task.pk}/pause/",
        f"/tasks/{task.pk}/resync/",
        f"/tasks/{task.pk}/delete/",
        "/import/",
        "/clusters/add/",
        f"/clusters/{task.source_id}/",
        f"/clusters/{task.source_id}/services/",
    ):
        assert client.post(path, {"cluster_name": "x", "yaml": "clusters: []"}).status_code == 403
    assert client.get("/import/").status_code == 403
    assert client.get("/clusters/add/").status_code == 403
    assert unchanged(task)


def test_a_viewer_on_the_admin_sees_but_cannot_change_or_pause(user_with_role, task):
    client = console_as(user_with_role(VIEWER), staff=True)
    assert client.get("/admin/syncapp/synctask/").status_code == 200
    assert client.get(f"/admin/syncapp/cluster/{task.source_id}/change/").status_code == 200
    client.post(
        "/admin/syncapp/synctask/",
        {"action": "pause", "_selected_action": [task.pk], "index": 0},
    )
    changed = client.post(
        f"/admin/syncapp/cluster/{task.source_id}/change/",
        {"cluster_name": "a", "cluster_type": "NACOS", "connect_keys": '["h:9"]'},
    )
    assert changed.status_code == 403
    assert client.get("/admin/syncapp/cluster/add/").status_code == 403
    assert unchanged(task)


def test_an_operator_pauses_and_resyncs_but_edits_nothing(user_with_role, task, monkeypatch):
    monkeypatch.setattr("syncapp.jobs.current_app.send_task", lambda name, args: None)
    operator = user_with_role(OPERATOR)
    client = api_as(operator)
    assert client.post(f"/api/tasks/{task.pk}/pause/").json()["paused"] is True
    assert client.post(f"/api/tasks/{task.pk}/resync/").status_code == 202
    assert client.post(f"/api/tasks/{task.pk}/resume/").status_code == 200
    assert set(api_writes(client, task).values()) == {403}
    console = console_as(operator)
    assert console.post(f"/tasks/{task.pk}/pause/").status_code == 302
    assert SyncTask.objects.get().paused
    SyncTask.objects.update(paused=False)
    assert console.post(f"/clusters/{task.source_id}/", {"cluster_name": "x"}).status_code == 403
    assert console.get("/import/").status_code == 403
    assert unchanged(task)


def test_an_operator_on_the_admin_can_pause_but_not_edit_clusters(user_with_role, task):
    client = console_as(user_with_role(OPERATOR), staff=True)
    client.post(
        "/admin/syncapp/synctask/",
        {"action": "pause", "_selected_action": [task.pk], "index": 0},
    )
    assert SyncTask.objects.get().paused
    assert client.get("/admin/syncapp/cluster/add/").status_code == 403


def test_an_admin_creates_edits_and_deletes(user_with_role, task):
    client = api_as(user_with_role(ADMIN))
    statuses = api_writes(client, task)
    assert statuses == {
        "create cluster": 201,
        "edit cluster": 200,
        "delete cluster": 409,  # task uses it
        "edit task": 200,
        "delete task": 204,
        "add service": 400,  # the task is gone by then
    }


def test_a_user_without_a_role_gets_nothing(django_user_model, task):
    nobody = django_user_model.objects.create_user("nobody")
    client = api_as(nobody)
    assert client.get("/api/clusters/").status_code == 403
    assert client.post("/api/clusters/", NEW_CLUSTER, format="json").status_code == 403
    assert client.post(f"/api/tasks/{task.pk}/pause/").status_code == 403
    assert console_as(nobody).get("/").status_code == 403
    assert unchanged(task)


def test_ensure_admin_creates_the_roles_and_puts_the_admin_in_its_group(monkeypatch):
    monkeypatch.setenv("MSESYNC_ADMIN_PASSWORD", "pw")
    call_command("ensure_admin", stdout=StringIO())
    assert set(Group.objects.values_list("name", flat=True)) == {VIEWER, OPERATOR, ADMIN}
    assert User.objects.get(username="admin").groups.filter(name=ADMIN).exists()
    viewer = Group.objects.get(name=VIEWER).permissions.values_list("codename", flat=True)
    assert set(viewer) == {"view_cluster", "view_synctask", "view_servicesync"}


def test_the_admin_shows_but_never_edits_what_the_sync_records(user_with_role, task):
    client = console_as(user_with_role(ADMIN, "boss"), staff=True)
    form = client.get(f"/admin/syncapp/synctask/{task.pk}/change/").content.decode()
    for field in ("last_scan_at", "last_error", "failing_since", "failures"):
        assert f'name="{field}"' not in form, field
    assert 'name="service_match_pattern"' in form
    row = ServiceSync.objects.create(task=task, service="orders", last_error="boom")
    shown = client.get(f"/admin/syncapp/servicesync/{row.pk}/change/").content.decode()
    assert "boom" in shown and 'name="last_error"' not in shown and 'name="service"' not in shown
    assert client.get("/admin/syncapp/servicesync/add/").status_code == 403
