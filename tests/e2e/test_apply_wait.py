"""`bin/msesync apply -f FILE --wait` with the real product: it returns once the first full
sync is done (the copies are at the destination by then), or fails as soon as an error is
known, with its text (the timeout is covered by tests/unit/test_apply_wait.py)."""

import time
import uuid

import pytest
import requests

from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from tests.support.configs import cluster, config_yaml, task

pytestmark = pytest.mark.e2e
SERVICES, PER_SERVICE = 3, 3


def apply_wait(product, yaml_text: str, timeout: int):
    path = product.data_dir / f"wait-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml_text)
    return product.run(
        "bin/msesync", "apply", "-f", str(path), "--wait", "--timeout", str(timeout), check=False
    )


def test_apply_wait_returns_after_the_first_full_sync_with_a_summary(
    product, nacos, nacos_alt, source_fleet
):
    tag = f"w{uuid.uuid4().hex[:6]}"
    keys = [ServiceKey("public", "DEFAULT_GROUP", f"{tag}-svc-{s}") for s in range(SERVICES)]
    source_fleet.add_many(
        [(k, Instance("10.9.0.1", 6000 + n)) for k in keys for n in range(PER_SERVICE)]
    )
    yaml_text = config_yaml(
        [cluster(f"{tag}-src", "NACOS", nacos_alt), cluster(f"{tag}-dst", "NACOS", nacos)],
        [task(f"{tag}-src", f"{tag}-dst", f"{tag}-.*")],
    )

    done = apply_wait(product, yaml_text, 120)

    # Checked before anything else can wait: the copies are there when the command returns.
    dest = NacosRegistry(ClusterConfig("reader", "NACOS", (nacos,)))
    assert sum(len(dest.list_instances(k)) for k in keys) == SERVICES * PER_SERVICE
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert (
        f"create task {tag}-src -> {tag}-dst (Service): copies go to the source's namespaces"
        in lines
    )
    progress = [line for line in lines if line.startswith("[")]
    assert progress and "\r" not in done.stdout  # not a terminal: one line per change
    assert f"{SERVICES}/{SERVICES} services | 1/1 tasks scanned | 0 errors" in progress[-1]
    header = next(i for i, line in enumerate(lines) if line.startswith("TASK"))
    assert lines[header].split() == [
        "TASK",
        "SERVICES",
        "SOURCE",
        "INSTANCES",
        "DEST",
        "INSTANCES",
        "ERRORS",
    ]
    total = str(SERVICES * PER_SERVICE)
    assert lines[header + 1].split() == [
        f"{tag}-src",
        "->",
        f"{tag}-dst",
        "(Service)",
        str(SERVICES),
        total,
        total,
        "0",
    ]


def test_apply_wait_fails_fast_with_the_error_when_the_destination_never_answers(
    product, zookeeper
):
    """A Config task whose destination refuses connections: its pass fails within seconds,
    and --wait says why then instead of waiting out its timeout."""
    tag = f"w{uuid.uuid4().hex[:6]}"
    yaml_text = config_yaml(
        [
            cluster(f"{tag}-zsrc", "ZOOKEEPER", zookeeper),
            cluster(f"{tag}-zdst", "ZOOKEEPER", "127.0.0.1:1"),
        ],
        [task(f"{tag}-zsrc", f"{tag}-zdst", f"/{tag}(/.*)?", sync_type="Config")],
    )
    started = time.monotonic()
    try:
        failed = apply_wait(product, yaml_text, 120)
    finally:
        pause_tasks_of(product, f"{tag}-zsrc")  # stop its retries: the product is shared
    assert failed.returncode == 1
    assert time.monotonic() - started < 60  # the pass fails after its 5 s connect timeout
    assert "first full sync failed:" in failed.stderr
    assert f"{tag}-zsrc -> {tag}-zdst (Config): ZooKeeper 127.0.0.1:1:" in failed.stderr
    assert f"{tag}-zsrc -> {tag}-zdst (Config)" in failed.stdout  # the summary still printed


def pause_tasks_of(product, source: str) -> None:
    token = product.manage("api_token", "admin").stdout.strip()
    base, headers = f"http://127.0.0.1:{product.port}/api", {"Authorization": f"Token {token}"}
    tasks = requests.get(f"{base}/tasks/?limit=1000", headers=headers, timeout=10).json()
    for t in tasks["results"]:
        if t["source"] == source:
            requests.post(f"{base}/tasks/{t['id']}/pause/", headers=headers, timeout=10)
