"""The REST API: secrets write-only, task actions (authentication: test_auth.py)."""

import pytest

from syncapp.models import Cluster, ServiceSync, SyncTask
from tests.support.rows import nacos_task

pytestmark = pytest.mark.django_db
SECRETS = {"password": "pw-123", "ak": "ak-456", "sk": "sk-789"}


@pytest.fixture
def task():
    return nacos_task(dest_fields=SECRETS)


def test_secrets_are_write_only(api_client, task):
    listed = api_client.get("/api/clusters/").json()["results"]
    detail = api_client.get(f"/api/clusters/{task.destination_id}/").json()
    for body in (listed, detail):
        for secret in SECRETS.values():
            assert secret not in str(body)
    created = api_client.post(
        "/api/clusters/",
        {
            "cluster_name": "c",
            "cluster_type": "CONSUL",
            "connect_keys": ["h:3"],
            "password": "new-pw",
        },
        format="json",
    )
    assert created.status_code == 201 and "new-pw" not in created.content.decode()
    assert Cluster.objects.get(cluster_name="c").password == "new-pw"


def test_pause_and_resume(api_client, task):
    assert api_client.post(f"/api/tasks/{task.pk}/pause/").json()["paused"] is True
    assert SyncTask.objects.get().paused
    assert api_client.post(f"/api/tasks/{task.pk}/resume/").json()["paused"] is False
    assert not SyncTask.objects.get().paused


def test_resync_forgets_digests_so_every_service_is_rewritten(api_client, task, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "syncapp.jobs.current_app.send_task", lambda name, args: sent.append((name, args))
    )
    ServiceSync.objects.create(task=task, service="s", source_digest="abc")
    assert api_client.post(f"/api/tasks/{task.pk}/resync/").status_code == 202
    assert ServiceSync.objects.get().source_digest == ""
    assert sent == [("workers.tasks.scan_task", [task.pk])]


def test_a_task_with_a_bad_pattern_or_the_same_ends_is_refused(api_client, task):
    bad = api_client.post(
        "/api/tasks/",
        {"source": "a", "destination": "b", "sync_type": "Config", "service_match_pattern": "(["},
        format="json",
    )
    assert bad.status_code == 400 and "service_match_pattern" in bad.json()
    same = api_client.post("/api/tasks/", {"source": "a", "destination": "a"}, format="json")
    assert same.status_code == 400


def test_services_filter_by_task_and_search(api_client, task):
    ServiceSync.objects.create(task=task, service="orders", source_count=3, dest_count=3)
    ServiceSync.objects.create(task=task, service="payments")
    found = api_client.get(f"/api/services/?task={task.pk}&search=ord").json()["results"]
    assert [(s["service"], s["source_count"]) for s in found] == [("orders", 3)]


def test_the_openapi_schema_is_served(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    assert "/api/tasks/{id}/pause/" in schema["paths"]
