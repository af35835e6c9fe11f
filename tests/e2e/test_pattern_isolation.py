"""Issue 12: a task's catastrophic pattern cannot stall another task (patterns run on RE2).

Under Python's backtracking `re`, `(a+)+$` against a run of 28 a's and one other character
takes minutes; the scan's worker thread and the keeper's change feed (which matches every
changed name against its task's pattern) would hold up every other task's changes meanwhile.
"""

import time
import uuid

import pytest

from syncapp.registries.base import ClusterConfig, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from tests.support.configs import cluster, config_yaml, task
from tests.support.waiting import wait_until
from tests.support.zk import curator_entry

pytestmark = pytest.mark.e2e
BACKTRACKING_NAME = "a" * 28 + "!"
CHANGES = 3
ALLOWED_DELAY = 1.0  # seconds a hostile task may add to another task's change latency


def change_latency(zk, dest, name: str, port: int) -> float:
    """Seconds from a new Curator instance of `name` until Nacos lists it."""
    started = time.monotonic()
    curator_entry(zk, name, "10.31.0.1", port, {})
    key = ServiceKey("public", "DEFAULT_GROUP", name)
    wait_until(lambda: dest.list_instances(key), timeout=30, step=0.05)
    return time.monotonic() - started


def test_a_backtracking_pattern_does_not_delay_another_tasks_changes(product, zookeeper, nacos, zk):
    tag = f"p{uuid.uuid4().hex[:6]}"
    dest = NacosRegistry(ClusterConfig("reader", "NACOS", (nacos,)))
    clusters = [
        cluster(f"{tag}-zk", "ZOOKEEPER", zookeeper),
        cluster(f"{tag}-n", "NACOS", nacos),
    ]
    calm = task(f"{tag}-zk", f"{tag}-n", f"{tag}-b-.*")
    product.apply(config_yaml(clusters, [calm]))
    curator_entry(zk, f"{tag}-b-warmup", "10.31.0.1", 8999, {})  # the task's first scan
    warm = ServiceKey("public", "DEFAULT_GROUP", f"{tag}-b-warmup")
    wait_until(lambda: dest.list_instances(warm), timeout=60)
    alone = [change_latency(zk, dest, f"{tag}-b-{n}", 9000 + n) for n in range(CHANGES)]

    # The same source, a task whose pattern backtracks on a name the source holds; the name
    # is written again before each change, so the feed matches it right then too.
    hostile = cluster(f"{tag}-zk2", "ZOOKEEPER", zookeeper)
    product.apply(
        config_yaml([*clusters, hostile], [calm, task(f"{tag}-zk2", f"{tag}-n", "(a+)+$")])
    )
    path = curator_entry(zk, BACKTRACKING_NAME, "10.31.0.2", 9100, {})
    time.sleep(3)  # the hostile task's scans have run (scan interval 1 s here)
    beside = []
    for round_ in range(CHANGES):
        zk.delete(path)
        path = curator_entry(zk, BACKTRACKING_NAME, "10.31.0.2", 9100 + round_, {})
        beside.append(change_latency(zk, dest, f"{tag}-b-x{round_}", 9200 + round_))
    assert max(beside) <= max(alone) + ALLOWED_DELAY, (alone, beside)
    zk.delete(path)
