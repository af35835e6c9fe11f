"""Issue 15, several nodes: kill -9 the node writing a Nacos Config task mid-change.

Three nodes (worker, beat, keeper each) on MariaDB + Redis. 100 configs are copied r-nacos ->
Nacos 3.1; then all 100 change at the source, and the node whose worker is copying them is
killed as soon as it has copied one. Every change must arrive within 15 s of the kill, and
Nacos' own config history must show one write per change: no config written twice.
"""

import base64
import os
import re
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.nodes import Node
from syncapp.registries.base import ClusterConfig, ConfigItem, ConfigKey
from syncapp.registries.nacos import NacosRegistry
from tests.support.configs import cluster, config_yaml, task
from tests.support.product import wait_for
from tests.support.storage import fresh_mysql_database, fresh_redis_db
from tests.testbed.pytest_plugin import exported

pytestmark = pytest.mark.e2e
COUNT = 100
ARRIVE_WITHIN = 15.0
REDIS_DB = 15  # e2e products use 5-14, the benches 13 and 14


def storage(mysql: str, redis: str) -> dict[str, str]:
    creds = exported("mariadb")
    user, password = creds["MYSQL_USER_NAME"], creds["MYSQL_PASSWORD"]
    return {
        "MYSQL_URL": fresh_mysql_database(mysql, user, password, "test_msesync_cfgfail"),
        "MYSQL_USER_NAME": user,
        "MYSQL_PASSWORD": password,
        "REDIS_URL": fresh_redis_db(redis, REDIS_DB),
        "MSESYNC_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "MSESYNC_MEMBER_TTL": "3",
    }


def history_writes(nacos: str, key: ConfigKey) -> int:
    """How many times Nacos recorded a write of this config (its history)."""
    reader = NacosRegistry(ClusterConfig("history", "NACOS", (nacos,)))
    params = {
        "namespaceId": key.namespace,
        "groupName": key.group,
        "dataId": key.data_id,
        "pageNo": 1,
        "pageSize": 100,
    }
    data = reader.http.json("GET", "/v3/admin/cs/history/list", params)["data"]
    reader.close()
    return int(data["totalCount"])


def copying_node(nodes, tag: str, since: dict) -> Node | None:
    """The node whose worker logged a copy of the test's configs after `since` (log sizes)."""
    for node in nodes:
        for log in (node.data_dir / "run").glob("*.log"):
            text = log.read_text(errors="replace")[since.get(log, 0) :]
            if re.search(rf"config public/{tag}G/\S+ copied", text):
                return node
    return None


def log_sizes(nodes) -> dict:
    return {log: log.stat().st_size for n in nodes for log in (n.data_dir / "run").glob("*.log")}


def test_killing_the_node_writing_a_config_task_loses_and_repeats_nothing(
    mysql, redis, nacos, nacos_alt
):
    env = storage(mysql, redis)
    workdir = Path(tempfile.mkdtemp(prefix="msesync-cfgfail-"))
    nodes = [Node(f"cfg{n}", workdir / f"cfg{n}", env) for n in (1, 2, 3)]
    tag = f"k{uuid.uuid4().hex[:6]}"
    source = NacosRegistry(ClusterConfig("s", "NACOS", (nacos_alt,)))
    dest = NacosRegistry(ClusterConfig("d", "NACOS", (nacos,)))
    keys = [ConfigKey("public", f"{tag}G", f"c{n:03}.cfg") for n in range(COUNT)]
    pool = ThreadPoolExecutor(16)
    list(pool.map(lambda k: source.write_config_item(ConfigItem(k, "v1", type="text")), keys))
    try:
        for node in nodes:
            node.start()
        nodes[0].apply(
            config_yaml(
                [cluster(f"{tag}-a", "NACOS", nacos_alt), cluster(f"{tag}-b", "NACOS", nacos)],
                [task(f"{tag}-a", f"{tag}-b", f"{tag}G/.*", sync_type="Config")],
            )
        )
        listed = lambda: dest.list_config_items("public")  # noqa: E731
        wait_for(lambda: all(listed().get(k) for k in keys), 120, what="first copy")

        since = log_sizes(nodes)
        v2 = ConfigItem(keys[0], "v2", type="text").md5
        list(pool.map(lambda k: source.write_config_item(ConfigItem(k, "v2", type="text")), keys))
        victim = wait_for(lambda: copying_node(nodes, tag, since), 30, 0.02, "a copying node")
        victim.kill9()
        killed = time.monotonic()
        wait_for(
            lambda: all(listed().get(k) == v2 for k in keys), ARRIVE_WITHIN, 0.2, "every change"
        )
        print(f"killed {victim.name}; all {COUNT} changes in {time.monotonic() - killed:.1f} s")
        time.sleep(6)  # passes after it must not write again
        counts = list(pool.map(lambda k: history_writes(nacos, k), keys))
        assert counts == [2] * COUNT, {
            k.data_id: c for k, c in zip(keys, counts, strict=True) if c != 2
        }
    finally:
        for node in nodes:
            node.stop()
            node.kill9()
        list(pool.map(source.delete_config_item, keys))
        list(pool.map(dest.delete_config_item, keys))
        source.close()
        dest.close()
