"""Issue 15's acceptance, end to end: Nacos Config tasks between r-nacos and Nacos 3.1 (v1 off).

200 configs over two namespaces and three groups (multi-byte text, one 100 KB config, type,
description, tags) are copied both ways round; an update, an addition and a deletion arrive;
configs the pattern does not match are untouched; a native destination config is kept (and
reported) unless the task says to overwrite it; two-way sync carries edits both ways, reports
edits on both sides, and writes nothing more once in step.
"""

import json
import time
import uuid

import pytest

from syncapp.registries.base import ClusterConfig, ConfigItem, ConfigKey
from syncapp.registries.nacos import NacosRegistry
from tests.support.configs import cluster, config_yaml, task
from tests.support.product import Product, wait_for

pytestmark = pytest.mark.e2e
MULTI_BYTE = "名前: 値 — ünïcödé ✓ 🚀"
TYPES = ("yaml", "properties", "json", "text")
COPY_WITHIN = 120  # seconds for the first copy of 200 configs
CHANGE_WITHIN = 10  # seconds for one change to arrive


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    """The embedded mode only (the storage modes are e2e/conftest.py's matter; the three-node
    test, test_config_failover.py, runs on MariaDB + Redis)."""
    running = Product(tmp_path_factory.mktemp("product-embedded"))
    running.start()
    yield running
    running.stop()
    print(running.logs()[-6000:])


def adapter(address: str, namespaces=("public",)) -> NacosRegistry:
    return NacosRegistry(ClusterConfig("e2e", "NACOS", (address,), tuple(namespaces)))


def keeps_attributes(addresses, nacos: str) -> bool:
    """Java Nacos keeps desc, tags and appName; r-nacos keeps no tags and reads back no desc
    (configs.py): between the two only content and type travel."""
    return all(address == nacos for address in addresses)


def world(tag: str, count: int = 200) -> list[ConfigItem]:
    """`count` configs over two namespaces and three groups; the first one is 100 KB."""
    namespaces, groups = ("public", f"{tag}ns"), [f"{tag}G{n}" for n in range(3)]
    items = []
    for n in range(count):
        key = ConfigKey(namespaces[n % 2], groups[n % 3], f"{tag}-{n}.cfg")
        content = f"n={n}\ntext={MULTI_BYTE}\n"
        if n == 0:
            content = (content * (100 * 1024 // len(content.encode())))[: 100 * 1024]
        items.append(ConfigItem(key, content, type=TYPES[n % 4], desc=f"d{n}", tags=f"t{n % 5}"))
    return items


def in_step(source, dest, keys) -> bool:
    listed_a = {
        k: m for ns in {k.namespace for k in keys} for k, m in source.list_config_items(ns).items()
    }
    listed_b = {
        k: m for ns in {k.namespace for k in keys} for k, m in dest.list_config_items(ns).items()
    }
    return all(k in listed_b and listed_b[k] == listed_a.get(k) for k in keys)


def rows(product, tag: str) -> dict:
    """The product's ConfigSync rows of the test's tasks: count, writes, conflicts."""
    code = (
        "import json; from django.db.models import Sum; from syncapp.models import ConfigSync;"
        f"q = ConfigSync.objects.filter(task__source__cluster_name__startswith='{tag}');"
        "w = q.aggregate(s=Sum('writes'))['s'] or 0;"
        "c = sorted(f'{r.group}/{r.data_id}: {r.conflict}' for r in q.exclude(conflict=''));"
        "print(json.dumps({'rows': q.count(), 'writes': w, 'conflicts': c}))"
    )
    return json.loads(product.manage("shell", "-c", code).stdout.strip().splitlines()[-1])


def set_paused(product, tag: str, paused: bool) -> None:
    code = (
        "from syncapp.models import SyncTask;"
        f"SyncTask.objects.filter(source__cluster_name__startswith='{tag}').update(paused={paused})"
    )
    product.manage("shell", "-c", code)


def configs_yaml(tag, a, b, pattern, mode="Unidirectional", extra="") -> str:
    text = config_yaml(
        [cluster(f"{tag}-a", "NACOS", a, f"public,{tag}ns"), cluster(f"{tag}-b", "NACOS", b)],
        [task(f"{tag}-a", f"{tag}-b", pattern, mode=mode, sync_type="Config")],
    )
    return text + extra


@pytest.mark.parametrize("direction", ["rnacos_to_nacos", "nacos_to_rnacos"])
def test_200_configs_copy_with_attributes_and_changes_follow(product, nacos, nacos_alt, direction):
    a_addr, b_addr = (nacos_alt, nacos) if direction == "rnacos_to_nacos" else (nacos, nacos_alt)
    tag = f"c{uuid.uuid4().hex[:6]}"
    items = world(tag)
    source, dest = adapter(a_addr, ("public", f"{tag}ns")), adapter(b_addr, ("public", f"{tag}ns"))
    source.ensure_namespace(f"{tag}ns")
    for item in items:
        source.write_config_item(item)
    # not matched: at the source (never copied) and at the destination (never touched)
    outside_a = ConfigItem(ConfigKey("public", f"{tag}X", "outside.cfg"), "a", type="text")
    outside_b = ConfigItem(ConfigKey("public", f"{tag}X", "outside-b.cfg"), "b", type="text")
    source.write_config_item(outside_a)
    dest.write_config_item(outside_b)
    # a native destination config that differs: kept and reported by default
    native = ConfigItem(items[1].key, "native content", type="text")
    dest.ensure_namespace(f"{tag}ns")
    dest.write_config_item(native)

    started = time.monotonic()
    product.apply(configs_yaml(tag, a_addr, b_addr, f"{tag}G.*/.*"))
    copied = [i.key for i in items if i.key != native.key]
    wait_for(lambda: in_step(source, dest, copied), COPY_WITHIN, 1.0, "200 configs copied")
    print(f"{direction}: 199 configs copied in {time.monotonic() - started:.1f} s")

    for item in items[:12]:
        if item.key == native.key:
            continue
        read = dest.read_config_item(item.key)
        assert read.content == item.content and read.type == item.type
        if keeps_attributes((a_addr, b_addr), nacos):
            assert (read.desc, read.tags) == (item.desc, item.tags)
    assert dest.read_config_item(native.key).content == "native content"
    assert dest.read_config_item(outside_a.key) is None
    assert dest.read_config_item(outside_b.key).content == "b"
    shown = wait_for(lambda: rows(product, tag)["conflicts"], 30, what="the native conflict")
    assert native.key.data_id in shown[0] and "not written by msesync" in shown[0]

    # an update, an addition and a deletion at the source
    changed = ConfigItem(items[2].key, "updated ✓", type="text")
    added = ConfigItem(ConfigKey(f"{tag}ns", f"{tag}G0", f"{tag}-new.cfg"), "new", type="text")
    started = time.monotonic()
    source.write_config_item(changed)
    source.write_config_item(added)
    source.delete_config_item(items[3].key)
    wait_for(
        lambda: (dest.read_config_item(changed.key) or changed).content == "updated ✓"
        and dest.read_config_item(added.key) is not None
        and dest.read_config_item(items[3].key) is None,
        CHANGE_WITHIN,
        0.2,
        "update, addition and deletion",
    )
    print(f"{direction}: update+addition+deletion arrived in {time.monotonic() - started:.2f} s")
    assert dest.read_config_item(outside_b.key).content == "b"

    # with the task option the native config is overwritten
    product.apply(
        configs_yaml(
            tag, a_addr, b_addr, f"{tag}G.*/.*", extra="    overwriteNativeConfigs: true\n"
        )
    )
    wait_for(
        lambda: dest.read_config_item(native.key).content == items[1].content,
        CHANGE_WITHIN + 10,
        what="the native config overwritten",
    )
    source.close()
    dest.close()


def test_two_way_edits_travel_both_ways_without_ping_pong_and_conflicts_are_reported(
    product, nacos, nacos_alt
):
    tag = f"t{uuid.uuid4().hex[:6]}"
    a, b = adapter(nacos_alt), adapter(nacos)
    a_only = ConfigItem(ConfigKey("public", f"{tag}G", "from-a.cfg"), "a1", type="text")
    b_only = ConfigItem(ConfigKey("public", f"{tag}G", "from-b.cfg"), "b1", type="text")
    a.write_config_item(a_only)
    b.write_config_item(b_only)
    product.apply(configs_yaml(tag, nacos_alt, nacos, f"{tag}G/.*", mode="Bidirectional"))
    wait_for(lambda: in_step(a, b, [a_only.key, b_only.key]), 60, what="both copied")

    b.write_config_item(ConfigItem(a_only.key, "edited at b", type="text"))
    wait_for(lambda: a.read_config_item(a_only.key).content == "edited at b", CHANGE_WITHIN)
    a.write_config_item(ConfigItem(b_only.key, "edited at a", type="text"))
    wait_for(lambda: b.read_config_item(b_only.key).content == "edited at a", CHANGE_WITHIN)

    time.sleep(3)  # let the echoes of our own writes come back
    before = rows(product, tag)
    time.sleep(3 * 5 + 1)  # three refresh intervals (MSESYNC_DAEMON_REFRESH_INTERVAL=5)
    after = rows(product, tag)
    print(f"two-way writes over three refresh intervals: {before['writes']} -> {after['writes']}")
    assert after["writes"] == before["writes"]
    assert a.read_config_item(a_only.key).content == b.read_config_item(a_only.key).content

    set_paused(product, tag, True)
    time.sleep(2)  # a pass under way finishes
    a.write_config_item(ConfigItem(a_only.key, "a's edit", type="text"))
    b.write_config_item(ConfigItem(a_only.key, "b's edit", type="text"))
    set_paused(product, tag, False)
    shown = wait_for(lambda: rows(product, tag)["conflicts"], 30, what="the conflict")
    assert "from-a.cfg" in shown[0] and "both sides" in shown[0]
    assert a.read_config_item(a_only.key).content == "a's edit"
    assert b.read_config_item(a_only.key).content == "b's edit"
    a.close()
    b.close()
