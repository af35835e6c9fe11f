"""/metrics: Prometheus text computed from the rows, behind authentication."""

import math
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from syncapp import jobs
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.ops.metrics import ERROR_KINDS, classify_error
from syncapp.registries import memory
from syncapp.registries.base import Instance, ServiceKey
from tests.support.rows import nacos_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def task():
    return nacos_task(mode=SyncTask.BIDIRECTIONAL)


def scrape(api_client) -> dict[tuple[str, frozenset], float]:
    """{(sample name, labels): value} of one scrape, parsed by prometheus_client's parser."""
    response = api_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    families = text_string_to_metric_families(response.content.decode())
    return {(s.name, frozenset(s.labels.items())): s.value for f in families for s in f.samples}


def labels(task, way="forward", **extra) -> frozenset:
    return frozenset(
        {
            "task": "a->b",
            "task_id": str(task.pk),
            "type": task.sync_type,
            "way": way,
            **extra,
        }.items()
    )


def test_counts_timestamps_lag_and_durations_come_from_the_rows(api_client, task):
    now = timezone.now()
    ServiceSync.objects.create(
        task=task,
        service="s1",
        source_count=3,
        dest_count=3,
        last_success_at=now - timedelta(seconds=100),
        last_duration=0.5,
    )
    ServiceSync.objects.create(
        task=task,
        service="s2",
        source_count=2,
        dest_count=1,
        last_success_at=now - timedelta(seconds=10),
        last_duration=1.5,
    )
    ServiceSync.objects.create(task=task, service="new")  # never synced yet
    ServiceSync.objects.create(task=task, service="gone", retired=True, source_count=9)
    ServiceSync.objects.create(task=task, reverse=True, service="back", source_count=4)

    m = scrape(api_client)
    fwd = labels(task)
    assert m[("msesync_task_services", fwd)] == 3  # the retired row is not counted
    assert m[("msesync_task_services_unsynced", fwd)] == 1
    assert m[("msesync_task_source_instances", fwd)] == 5
    assert m[("msesync_task_destination_instances", fwd)] == 4
    newest = (now - timedelta(seconds=10)).timestamp()
    assert m[("msesync_task_last_success_timestamp_seconds", fwd)] == pytest.approx(newest, abs=1)
    assert 100 <= m[("msesync_task_sync_lag_seconds", fwd)] < 110  # the oldest success
    assert m[("msesync_task_job_duration_max_seconds", fwd)] == 1.5
    assert m[("msesync_task_job_duration_avg_seconds", fwd)] == 1.0
    assert m[("msesync_task_paused", fwd)] == 0
    back = labels(task, "reverse")
    assert m[("msesync_task_source_instances", back)] == 4
    assert math.isnan(m[("msesync_task_sync_lag_seconds", back)])  # nothing synced that way


def error_counts(m, task, way="forward") -> dict[str, float]:
    return {k: m[("msesync_task_errors", labels(task, way, kind=k))] for k in ERROR_KINDS}


def test_errors_are_counted_by_the_kind_stored_with_them_not_by_their_words(api_client, task):
    for n, (error, kind) in enumerate(
        [
            ("a Nacos reason that says HTTP 500 and timeout", "rejected"),
            ("Nacos gRPC h:9848 unreachable", "unreachable"),
            ("internal error: KeyError: 'hosts'", "internal"),
            ("Consul catalog: unexpected answer None", "other"),
            ("Consul: 400 Value is too long", "rejected"),
        ]
    ):
        ServiceSync.objects.create(task=task, service=f"s{n}", last_error=error, error_kind=kind)
    ServiceSync.objects.create(task=task, service="ok")
    counts = error_counts(scrape(api_client), task)
    assert counts == {"unreachable": 1, "rejected": 2, "other": 1, "internal": 1}


def test_errors_stored_before_kinds_were_are_classified_from_their_text(api_client, task):
    for n, error in enumerate(
        [
            "GET /nacos/v1/ns/instance/list unreachable (http://h:1/nacos: ConnectTimeout)",
            "Nacos POST /v1/ns/instance: HTTP 403 user not found",
            "Nacos GET /v1/ns/instance/list: HTTP 500 boom",
            "something odd",
            "internal error: ValueError: boom",
            "",
        ]
    ):
        ServiceSync.objects.create(task=task, service=f"s{n}", last_error=error)  # no kind
    counts = error_counts(scrape(api_client), task)
    assert counts == {"unreachable": 1, "rejected": 2, "other": 1, "internal": 1}


def test_a_scan_error_counts_once_per_failing_way_with_the_tasks_kind(api_client, task):
    SyncTask.objects.filter(pk=task.pk).update(
        last_error="a -> b: Nacos GET /x: HTTP 403 no\nb -> a: b is down", error_kind="rejected"
    )
    m = scrape(api_client)
    assert error_counts(m, task)["rejected"] == 1
    assert error_counts(m, task, "reverse")["rejected"] == 1  # one kind per task: the first's


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Consul unreachable (h:1: ConnectionError)", "unreachable"),
        ("ZooKeeper h:1: cannot connect: timed out", "unreachable"),
        ("Consul: 403 ACL not found", "rejected"),
        ("Eureka GET /apps: HTTP 401 ", "rejected"),
        ("Nacos GET /x: not JSON: 'x'", "other"),
        ("a -> b: internal error: ValueError: boom", "internal"),
    ],
)
def test_classify_error(message, kind):
    assert classify_error(message) == kind


def test_a_config_task_reports_its_pass(api_client, task):
    z1 = Cluster.objects.create(cluster_name="z1", cluster_type="ZOOKEEPER", connect_keys=["h:3"])
    z2 = Cluster.objects.create(cluster_name="z2", cluster_type="ZOOKEEPER", connect_keys=["h:4"])
    passed = timezone.now() - timedelta(seconds=30)
    config = SyncTask.objects.create(
        source=z1,
        destination=z2,
        sync_type=SyncTask.CONFIG,
        last_scan_at=passed,
        last_error="ZooKeeper h:4: cannot connect: timed out",
        paused=True,
    )
    m = scrape(api_client)
    lab = frozenset(
        {"task": "z1->z2", "task_id": str(config.pk), "type": "Config", "way": "forward"}.items()
    )
    assert m[("msesync_task_last_success_timestamp_seconds", lab)] == pytest.approx(
        passed.timestamp(), abs=1
    )
    assert 30 <= m[("msesync_task_sync_lag_seconds", lab)] < 40
    assert m[("msesync_task_errors", frozenset({*lab, ("kind", "unreachable")}))] == 1
    assert m[("msesync_task_paused", lab)] == 1


def test_sync_jobs_record_their_duration_on_success_and_on_failure(api_client, fresh_memory):
    a = Cluster.objects.create(cluster_name="a", cluster_type="MEMORY", connect_keys=["m"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY", connect_keys=["m"])
    task = SyncTask.objects.create(source=a, destination=b)
    service = ServiceKey("public", "DEFAULT_GROUP", "orders")
    memory.store("a").services[service] = {i.key: i for i in [Instance("10.0.0.1", 1)]}
    [row_id] = jobs.scan_task(task.pk)
    jobs.sync_service(row_id)
    row = ServiceSync.objects.get(pk=row_id)
    assert row.last_success_at and 0 <= row.last_duration < 5
    memory.store("a").fail_reads = True
    ServiceSync.objects.filter(pk=row_id).update(last_duration=None)
    jobs.sync_service(row_id, force=True)
    row.refresh_from_db()
    assert "down" in row.last_error and 0 <= row.last_duration < 5
    m = scrape(api_client)
    assert m[("msesync_task_job_duration_max_seconds", labels(task))] == row.last_duration
    assert m[("msesync_task_source_instances", labels(task))] == 1


def test_metrics_need_a_login_and_healthz_does_not(task):
    anonymous = Client()
    assert anonymous.get("/metrics").status_code in (401, 403)
    assert anonymous.get("/healthz").json() == {"status": "ok"}


def test_waiting_jobs_are_counted_per_queue_from_the_marks(api_client, task):
    now = timezone.now()
    ServiceSync.objects.create(task=task, service="s1", queued_at=now)
    ServiceSync.objects.create(task=task, service="s2", queued_at=now, change_queued_at=now)
    ServiceSync.objects.create(task=task, service="s3")
    lost = now - timedelta(hours=1)  # its worker died: the mark no longer counts
    ServiceSync.objects.create(task=task, service="s4", queued_at=lost)
    samples = scrape(api_client)
    assert samples["msesync_services_waiting", frozenset({"queue": "scan"}.items())] == 2
    assert samples["msesync_services_waiting", frozenset({"queue": "change"}.items())] == 1
