"""The console's Service Synchronization pages: login, paging, search, task actions."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.ui import states
from syncapp.ui.formatting import short_duration
from tests.support.rows import nacos_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def task():
    return nacos_task(last_scan_at=timezone.now())


def add_services(task, count: int, **fields) -> None:
    ServiceSync.objects.bulk_create(
        ServiceSync(task=task, namespace="public", group="G", service=f"svc-{n:05}", **fields)
        for n in range(count)
    )


def console_paths(patterns=None, prefix=""):
    """Every console path in the URL conf, parameters set to 1."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from console_paths(p.url_patterns, route)
        elif getattr(p, "name", None) and p.lookup_str.startswith("syncapp.ui"):
            yield "/" + route.replace("<int:pk>", "1")


def test_every_console_page_sends_anonymous_visitors_to_the_login_page(client, task):
    paths = sorted(set(console_paths()))
    assert {"/", "/import/", "/clusters/", "/tasks/1/"} <= set(paths)
    for path in paths:
        response = client.post(path) if "/pause/" in path else client.get(path)
        assert response.status_code == 302, path
        assert response.url.startswith(f"/login/?next={path}"), path
    task.refresh_from_db()
    assert not task.paused


def test_login_page_logs_in_and_goes_back_to_the_page_asked(client, user_with_role):
    viewer = user_with_role("viewer", "ops")
    viewer.set_password("right")
    viewer.save()
    page = client.get("/login/?next=/clusters/")
    assert page.status_code == 200 and b'name="password"' in page.content
    wrong = client.post("/login/", {"username": "ops", "password": "nope", "next": "/clusters/"})
    assert b"Wrong user name or password" in wrong.content
    right = client.post("/login/", {"username": "ops", "password": "right", "next": "/clusters/"})
    assert right.status_code == 302 and right.url == "/clusters/"
    assert client.get("/clusters/").status_code == 200
    assert client.post("/logout/").url == "/login/"
    assert client.get("/clusters/").status_code == 302


def test_nav_links_the_admin_for_staff_only(console, django_user_model):
    assert b'href="/admin/"' not in console.get("/").content
    django_user_model.objects.filter(username="ops").update(is_staff=True)
    assert b'href="/admin/"' in console.get("/").content


def test_task_list_shows_direction_counts_and_a_state_from_the_rows(console, task):
    add_services(task, 3, source_count=2, dest_count=2, last_success_at=timezone.now())
    ServiceSync.objects.create(task=task, service="broken", last_error="boom")
    page = console.get("/").content.decode()
    assert "a → b" in page and "Unidirectional" in page
    assert "3 / 4" in page  # synced / services
    assert 'data-state="error"' in page


@pytest.mark.parametrize(
    "paused, scanned, rows, expected",
    [
        (True, True, [], "paused"),
        (False, False, [], "syncing"),
        (False, True, [], "synced"),
        (False, True, [dict(source_count=1, dest_count=0, last_success_at=True)], "syncing"),
        (False, True, [dict(source_count=1, dest_count=1, last_success_at=None)], "syncing"),
        (False, True, [dict(source_count=1, dest_count=1, last_success_at=True)], "synced"),
        (False, True, [dict(last_error="x", last_success_at=True)], "error"),
        (False, True, [dict(retired=True, last_error="x")], "synced"),  # retired: not counted
    ],
)
def test_task_state(task, paused, scanned, rows, expected):
    task.paused, task.last_scan_at = paused, timezone.now() if scanned else None
    for n, row in enumerate(rows):
        when = timezone.now() if row.pop("last_success_at", None) else None
        ServiceSync.objects.create(task=task, service=f"s{n}", last_success_at=when, **row)
    counts = states.counts_by_task([task.pk]).get(task.pk, states.TaskCounts())
    assert states.task_state(task, counts) == expected


def test_services_page_lists_fifty_a_page_with_one_count_and_one_limited_query(console, task):
    add_services(task, 10_000)
    with CaptureQueriesContext(connection) as queries:
        first = console.get(f"/tasks/{task.pk}/")
    body = first.content.decode()
    assert body.count('data-service="svc-') == 50
    assert "svc-00000" in body and "svc-00049" in body and "svc-00050" not in body
    assert "page 1 of 200" in body
    on_rows = [q["sql"] for q in queries if 'FROM "syncapp_servicesync"' in q["sql"]]
    listing = [sql for sql in on_rows if "LIMIT" in sql]
    counts = [sql for sql in on_rows if sql.startswith("SELECT COUNT(*)")]
    summary = [sql for sql in on_rows if "GROUP BY" in sql]
    # The rows shown, the paginator's count, and the status summary (aggregated in SQL):
    # nothing else reads the service table, and nothing reads it whole.
    assert (len(listing), len(counts), len(summary), len(on_rows)) == (1, 1, 1, 3)
    assert "leases" not in listing[0]


def test_deep_page_and_search(console, task):
    add_services(task, 10_000)
    deep = console.get(f"/tasks/{task.pk}/?page=200").content.decode()
    assert "svc-09999" in deep and "svc-09950" in deep and "svc-09949" not in deep
    found = console.get(f"/tasks/{task.pk}/?q=SVC-0042").content.decode()
    assert found.count('data-service="svc-') == 10  # svc-00420 .. svc-00429
    assert "10 services" in found
    second = console.get(f"/tasks/{task.pk}/?q=svc-00&page=2").content.decode()
    assert "svc-00050" in second and "q=svc-00&amp;page=3" in second
    assert "No service matches" in console.get(f"/tasks/{task.pk}/?q=zzz").content.decode()
    assert console.get(f"/tasks/{task.pk}/?page=junk").status_code == 200


def test_service_row_shows_counts_lag_and_last_error(console, task):
    ServiceSync.objects.create(
        task=task,
        namespace="test",
        group="G2",
        service="orders",
        source_count=3,
        dest_count=2,
        last_success_at=timezone.now() - timedelta(seconds=75),
        last_error="destination refused",
    )
    body = console.get(f"/tasks/{task.pk}/").content.decode()
    assert "orders" in body and "test" in body and "G2" in body and "a → b" in body
    assert '<td class="num source-count">3</td>' in body
    assert '<td class="num dest-count">2</td>' in body
    assert "1m 15s" in body and "destination refused" in body


def test_short_duration():
    assert short_duration(timedelta(seconds=0)) == "0s"
    assert short_duration(timedelta(seconds=75)) == "1m 15s"
    assert short_duration(timedelta(hours=2, minutes=5, seconds=9)) == "2h 5m"
    assert short_duration(timedelta(days=3, hours=1)) == "3d 1h"


def test_pause_resume_change_the_task_and_come_back(console, task):
    back = f"/tasks/{task.pk}/?q=x"
    response = console.post(f"/tasks/{task.pk}/pause/", {"next": back})
    assert response.url == back
    task.refresh_from_db()
    assert task.paused
    assert 'data-state="paused"' in console.get(f"/tasks/{task.pk}/").content.decode()
    console.post(f"/tasks/{task.pk}/resume/", {"next": "https://evil.example/"})
    task.refresh_from_db()
    assert not task.paused


def test_actions_need_post(console, task):
    assert console.get(f"/tasks/{task.pk}/pause/").status_code == 405
    assert console.get(f"/tasks/{task.pk}/delete/").status_code == 405


def test_resync_queues_a_full_scan(console, task, monkeypatch):
    add_services(task, 2, source_digest="abc")
    sent = []
    monkeypatch.setattr(
        "syncapp.jobs.current_app.send_task", lambda name, args: sent.append((name, args))
    )
    response = console.post(f"/tasks/{task.pk}/resync/", follow=True)
    assert sent == [("workers.tasks.scan_task", [task.pk])]
    assert set(ServiceSync.objects.values_list("source_digest", flat=True)) == {""}
    assert "full resync queued" in response.content.decode()


def test_delete_removes_the_task_and_its_rows(console, task):
    add_services(task, 3)
    response = console.post(f"/tasks/{task.pk}/delete/")
    assert response.url == "/"
    assert not SyncTask.objects.exists() and not ServiceSync.objects.exists()
    assert Cluster.objects.count() == 2
    assert console.post(f"/tasks/{task.pk}/delete/").status_code == 404


def test_pages_show_since_when_and_how_often_things_fail(console, task):
    started = timezone.now() - timedelta(hours=3, minutes=12, seconds=20)  # shown to the minute
    add_services(task, 3, source_count=1, dest_count=1, last_success_at=timezone.now())
    ServiceSync.objects.create(
        task=task, service="broken", last_error="boom", failing_since=started, failures=7
    )
    listing = console.get("/").content.decode()
    assert "3 / 4" in listing and 'aria-valuenow="3"' in listing and 'style="width: 75%"' in listing
    assert "1 service in error" in listing
    assert "for 3h 12m" in listing  # the task fails since its oldest failing row
    page = console.get(f"/tasks/{task.pk}/").content.decode()
    broken = page[page.index('data-service="broken"') :].split("</tr>")[0]
    assert "for 3h 12m · 7 failures" in broken
    assert f"failing since {timezone.localtime(started):%Y-%m-%d %H:%M:%S}" in broken
    assert 'id="task-errors" class="error">1<' in page


def test_a_task_pages_live_parts_carry_ids_the_page_script_swaps(console, task):
    """console.js replaces each [data-live] element by the one of the same id it re-reads."""
    for path in ("/", f"/tasks/{task.pk}/"):
        body = console.get(path).content.decode()
        live = re.findall(r'<div id="([\w-]+)" data-live>', body)
        assert live and len(live) == len(set(live)), path
        assert 'id="live-stamp"' in body, path
        assert "{#" not in body and "{%" not in body, path  # no template comment shown as text
    assert re.findall(r'<div id="([\w-]+)" data-live>', body) == ["task-summary", "task-rows"]


def test_a_task_page_says_where_copies_land_at_the_destination(console):
    zk = Cluster.objects.create(cluster_name="zk", cluster_type="ZOOKEEPER", connect_keys=["h:1"])
    nacos = Cluster.objects.create(
        cluster_name="n", cluster_type="NACOS", connect_keys=["h:2"], namespaces="dev,prod"
    )
    into_nacos = SyncTask.objects.create(source=zk, destination=nacos)
    page = console.get(f"/tasks/{into_nacos.pk}/").content.decode()
    assert 'id="task-copies-go">copies go to namespace &quot;dev&quot;<' in page
    into_zk = SyncTask.objects.create(source=nacos, destination=zk)
    assert 'id="task-copies-go"' not in console.get(f"/tasks/{into_zk.pk}/").content.decode()
