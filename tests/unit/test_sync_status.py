"""sync_status: where a migration stands, for people and for scripts."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from syncapp.models import Cluster, ConfigSync, ServiceSync, SyncTask
from tests.support.rows import nacos_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def task():
    task = nacos_task(mode=SyncTask.BIDIRECTIONAL)
    ServiceSync.objects.create(
        task=task,
        namespace="public",
        group="G",
        service="orders",
        source_count=3,
        dest_count=3,
        last_success_at=timezone.now(),
    )
    ServiceSync.objects.create(
        task=task,
        reverse=True,
        namespace="public",
        group="G",
        service="pay",
        source_count=2,
        last_error="b is down",
        last_error_at=timezone.now(),
    )
    return task


@pytest.fixture
def healthy_task():
    """c -> d (Service), its one service in step."""
    c = Cluster.objects.create(cluster_name="c", cluster_type="NACOS", connect_keys=["h:3"])
    d = Cluster.objects.create(cluster_name="d", cluster_type="NACOS", connect_keys=["h:4"])
    task = SyncTask.objects.create(source=c, destination=d, last_scan_at=timezone.now())
    ServiceSync.objects.create(
        task=task, service="users", source_count=0, dest_count=0, last_success_at=timezone.now()
    )
    return task


def run(*args) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("sync_status", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_json_lists_each_service_way_with_counts_and_outcome(task):
    [status] = json.loads(run("--json")[0])
    assert status["task"] == "a <-> b (Service)"
    by_name = {s["service"]: s for s in status["services"]}
    assert by_name["orders"]["way"] == "forward" and by_name["orders"]["in_sync"] is True
    assert (
        by_name["pay"]["way"],
        by_name["pay"]["source_count"],
        by_name["pay"]["dest_count"],
        by_name["pay"]["in_sync"],
        by_name["pay"]["last_error"],
    ) == ("reverse", 2, 0, False, "b is down")


def test_json_carries_each_state_and_both_clusters_of_each_way(task):
    [status] = json.loads(run("--json")[0])
    assert (status["state"], status["source"], status["destination"]) == ("error", "a", "b")
    by_name = {s["service"]: s for s in status["services"]}
    assert [by_name["orders"][k] for k in ("state", "source", "destination")] == [
        "synced",
        "a",
        "b",
    ]
    assert [by_name["pay"][k] for k in ("state", "source", "destination")] == ["error", "b", "a"]


def test_a_row_never_synced_is_syncing_not_in_sync(task):
    ServiceSync.objects.create(task=task, service="new")  # 0 = 0 instances, no sync yet
    [status] = json.loads(run("--json")[0])
    new = next(s for s in status["services"] if s["service"] == "new")
    assert (new["state"], new["in_sync"]) == ("syncing", False)


def test_text_has_a_task_line_then_a_header_and_a_line_per_service(task):
    text, _ = run()
    lines = text.splitlines()
    assert lines[0].startswith(f"task {task.pk}: a <-> b (Service)  state: error")
    assert "services: 2 (1 in step, 1 in error)" in lines[0]
    assert lines[1].split() == [
        "WAY",
        "NAMESPACE",
        "GROUP",
        "SERVICE",
        "STATE",
        "SOURCE",
        "DEST",
        "LAST",
        "SUCCESS",
        "LAST",
        "ERROR",
    ]
    pay = next(line for line in lines if " pay " in line).split()
    # A count of 0 prints as 0; only what is missing (no success yet) prints as "-".
    assert pay == ["reverse", "public", "G", "pay", "error", "2", "0", "-", "b", "is", "down"]


def test_it_exits_non_zero_when_a_row_shown_is_in_error(task, healthy_task):
    _, error = run()
    assert error is not None and error.returncode == 1
    assert "in error" in str(error)
    text, error = run("--task", str(healthy_task.pk))
    assert error is None and "users" in text and "pay" not in text


def test_errors_shows_only_what_is_in_error(task, healthy_task):
    text, error = run("--errors")
    assert "pay" in text and "orders" not in text and "c -> d" not in text
    assert error is not None
    [status] = json.loads(run("--errors", "--json")[0])
    assert [s["service"] for s in status["services"]] == ["pay"]


def test_errors_with_nothing_in_error_exits_zero(healthy_task):
    text, error = run("--errors")
    assert (text.strip(), error) == ("nothing in error", None)


@pytest.mark.parametrize("name", ["a <-> b (Service)", "a<->b", "a <-> b"])
def test_task_by_name(task, healthy_task, name):
    [status] = json.loads(run("--task", name, "--json")[0])
    assert status["id"] == task.pk


def test_an_unknown_task_is_a_usage_error(task):
    _, error = run("--task", "nope")
    assert error is not None and error.returncode == 2 and "no task matches 'nope'" in str(error)


def test_summary_is_one_line_per_task(task, healthy_task):
    text, error = run("--summary")
    assert text.splitlines() == [
        f"task {task.pk}: a <-> b (Service)  state: error  services: 2 (1 in step, 1 in error)",
        f"task {healthy_task.pk}: c -> d (Service)  state: synced  "
        "services: 1 (1 in step, 0 in error)",
    ]
    assert error is not None and error.returncode == 1


def test_a_config_task_line_counts_configs_not_services():
    task = nacos_task(sync_type=SyncTask.CONFIG, last_scan_at=timezone.now())
    ConfigSync.objects.create(task=task, namespace="public", group="G", data_id="a.yaml")
    ConfigSync.objects.create(
        task=task, namespace="public", group="G", data_id="b.yaml", conflict="edited at b"
    )
    text, _ = run()
    assert text.splitlines()[0] == (
        f"task {task.pk}: a -> b (Config)  state: synced  configs: 1 in step, 1 in conflict"
    )
