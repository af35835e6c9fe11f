"""The REST API: secrets write-only, task actions (authentication: test_auth.py)."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from syncapp.models import Cluster, ServiceSync, SyncTask

pytestmark = pytest.mark.django_db
SECRETS = {"password": "pw-123", "ak": "ak-456", "sk": "sk-789"}


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(User.objects.create_user("ops"))
    return client


@pytest.fixture
def task():
    a = Cluster.objects.create(cluster_name="a", cluster_type="NACOS", connect_keys=["h:1"])
    b = Cluster.objects.create(
        cluster_name="b", cluster_type="NACOS", connect_keys=["h:2"], **SECRETS
    )
    return SyncTask.objects.create(source=a, destination=b)


def test_secrets_are_write_only(api, task):
    listed = api.get("/api/clusters/").json()["results"]
    detail = api.get(f"/api/clusters/{task.destination_id}/").json()
    for body in (listed, detail):
        for secret in SECRETS.values():
            assert secret not in str(body)
    created = api.post(
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


def test_pause_and_resume(api, task):
    assert api.post(f"/api/tasks/{task.pk}/pause/").json()["paused"] is True
    assert SyncTask.objects.get().paused
    assert api.post(f"/api/tasks/{task.pk}/resume/").json()["paused"] is False
    assert not SyncTask.objects.get().paused


def test_resync_forgets_digests_so_every_service_is_rewritten(api, task, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "syncapp.jobs.current_app.send_task", lambda name, args: sent.append((name, args))
    )
    ServiceSync.objects.create(task=task, service="s", source_digest="abc")
    assert api.post(f"/api/tasks/{task.pk}/resync/").status_code == 202
    assert ServiceSync.objects.get().source_digest == ""
    assert sent == [("workers.tasks.scan_task", [task.pk, True])]


def test_a_task_with_a_bad_pattern_or_the_same_ends_is_refused(api, task):
    bad = api.post(
        "/api/tasks/",
        {"source": "a", "destination": "b", "sync_type": "Config", "service_match_pattern": "(["},
        format="json",
    )
    assert bad.status_code == 400 and "service_match_pattern" in bad.json()
    same = api.post("/api/tasks/", {"source": "a", "destination": "a"}, format="json")
    assert same.status_code == 400


def test_services_filter_by_task_and_search(api, task):
    ServiceSync.objects.create(task=task, service="orders", source_count=3, dest_count=3)
    ServiceSync.objects.create(task=task, service="payments")
    found = api.get(f"/api/services/?task={task.pk}&search=ord").json()["results"]
    assert [(s["service"], s["source_count"]) for s in found] == [("orders", 3)]


def test_the_openapi_schema_is_served(api):
    schema = api.get("/api/schema/?format=json").json()
    assert "/api/tasks/{id}/pause/" in schema["paths"]
