"""The REST API: authentication everywhere, secrets write-only, task actions."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import URLResolver, get_resolver
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


def concrete(route: str) -> str:
    """A regex or path-converter route with every parameter set to 1."""
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = re.sub(r"<(\w+:)?\w+>", "1", route)
    return "/" + route.replace("^", "").replace("$", "")


def api_paths(patterns=None, prefix=""):
    """Every path under /api/ in the URL conf (format-suffix variants left out)."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from api_paths(p.url_patterns, route)
        elif route.lstrip("^").startswith("api/") and "format" not in route:
            yield concrete(route)


def test_every_api_endpoint_refuses_anonymous_callers(task):
    paths = sorted(set(api_paths()))
    assert "/api/tasks/1/pause/" in paths and "/api/clusters/" in paths
    anonymous = APIClient()
    for path in paths:
        assert anonymous.get(path).status_code in (401, 403), path
        assert anonymous.post(path, {}).status_code in (401, 403), path


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
