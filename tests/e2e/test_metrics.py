"""/metrics of the real product while it syncs r-nacos -> Nacos, scraped with an API token."""

import time
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from tests.support.configs import cluster, config_yaml, task
from tests.support.product import wait_for

pytestmark = pytest.mark.e2e
SERVICES, PER_SERVICE = 3, 4


def healthy(base: str) -> bool:
    """/healthz answers without credentials once the web process is up (start -d returns first)."""
    try:
        return requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    except requests.ConnectionError:
        return False


def scrape(base: str, token: str) -> dict[str, dict[frozenset, float]]:
    """{metric: {labels: value}}, through prometheus_client's own parser."""
    answer = requests.get(
        f"{base}/metrics", headers={"Authorization": f"Token {token}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text[:300]
    result: dict[str, dict[frozenset, float]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            result.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return result


def of_task(metrics, name: str, task_label: str, **extra) -> float:
    [value] = [
        v
        for labels, v in metrics.get(name, {}).items()
        if ("task", task_label) in labels and set(extra.items()) <= labels
    ]
    return value


def test_metrics_follow_the_running_sync(product, nacos, nacos_alt, source_fleet):
    tag = f"m{uuid.uuid4().hex[:6]}"
    base = f"http://127.0.0.1:{product.port}"
    label = f"{tag}-src->{tag}-dst"
    keys = [ServiceKey("public", "DEFAULT_GROUP", f"{tag}-svc-{s}") for s in range(SERVICES)]
    source_fleet.add_many(
        [(k, Instance("10.8.0.1", 7000 + n)) for k in keys for n in range(PER_SERVICE)]
    )
    wait_for(lambda: healthy(base), 60, what="the web process")
    assert requests.get(f"{base}/metrics", timeout=10).status_code in (401, 403)

    product.apply(
        config_yaml(
            [cluster(f"{tag}-src", "NACOS", nacos_alt), cluster(f"{tag}-dst", "NACOS", nacos)],
            [task(f"{tag}-src", f"{tag}-dst", f"{tag}-.*")],
        )
    )
    token = product.manage("api_token", "admin").stdout.strip()
    total = SERVICES * PER_SERVICE

    def counted():
        m = scrape(base, token)
        return (
            of_task(m, "msesync_task_services", label) == SERVICES
            and of_task(m, "msesync_task_source_instances", label) == total
            and of_task(m, "msesync_task_destination_instances", label) == total
            and m
        )

    metrics = wait_for(counted, 90, what=f"{total} instances at both ends in /metrics")
    dest = NacosRegistry(ClusterConfig("reader", "NACOS", (nacos,)))
    assert sum(len(dest.list_instances(k)) for k in keys) == total  # what /metrics says is true
    assert of_task(metrics, "msesync_task_services_unsynced", label) == 0
    assert of_task(metrics, "msesync_task_errors", label, kind="unreachable") == 0
    last = of_task(metrics, "msesync_task_last_success_timestamp_seconds", label)
    assert time.time() - 60 < last <= time.time() + 1
    assert 0 <= of_task(metrics, "msesync_task_sync_lag_seconds", label) < 60
    assert 0 < of_task(metrics, "msesync_task_job_duration_max_seconds", label) < 30

    # A change at the source shows at the next scrapes, with no restart of anything.
    source_fleet.remove(keys[0], Instance("10.8.0.1", 7000))
    wait_for(
        lambda: of_task(scrape(base, token), "msesync_task_destination_instances", label)
        == total - 1,
        60,
        what="one instance fewer at the destination in /metrics",
    )
