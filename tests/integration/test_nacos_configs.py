"""The Nacos config adapter against both real servers of the test bed: Java Nacos 3.1 with the
v1/v2 HTTP APIs off (its v3 admin config API and gRPC) and r-nacos (its v1 config API, gRPC
for reads of the type and for listening)."""

import queue
import uuid

import pytest

from syncapp.registries.base import ClusterConfig, ConfigItem, ConfigKey, content_md5
from syncapp.registries.nacos import NacosRegistry
from tests.support.waiting import wait_until

# What each server keeps of a config besides its content (configs.py).
KEEPS = {"nacos": ("type", "desc", "tags", "app_name"), "nacos_alt": ("type",)}
MULTI_BYTE = "名前: 値 — ünïcödé ✓ 🚀\nkey=värde\n"


@pytest.fixture(params=["nacos", "nacos_alt"])
def flavour(request):
    address = request.getfixturevalue(request.param)
    adapter = NacosRegistry(ClusterConfig("n", "NACOS", (address,), ("public",)))
    yield request.param, adapter
    adapter.close()


@pytest.fixture
def key():
    return ConfigKey("public", "DEFAULT_GROUP", f"contract-{uuid.uuid4().hex[:8]}.yaml")


def kept(item: ConfigItem, fields) -> dict:
    return {name: getattr(item, name) for name in ("content", *fields)}


def test_it_writes_reads_and_lists_a_config_with_its_attributes(flavour, key):
    name, registry = flavour
    item = ConfigItem(key, "a: 1\n", type="yaml", desc="orders", tags="t1,t2", app_name="shop")
    registry.write_config_item(item)
    read = registry.read_config_item(key)
    assert kept(read, KEEPS[name]) == kept(item, KEEPS[name])
    assert registry.list_config_items("public")[key] == content_md5("a: 1\n")
    registry.delete_config_item(key)


def test_multi_byte_and_large_content_round_trip_with_nacos_md5(flavour, key):
    _, registry = flavour
    big = (MULTI_BYTE * (100 * 1024 // len(MULTI_BYTE.encode())))[: 100 * 1024]
    for content in (MULTI_BYTE, big):
        registry.write_config_item(ConfigItem(key, content, type="text"))
        assert registry.read_config_item(key).content == content
        assert registry.list_config_items("public")[key] == content_md5(content)
    registry.delete_config_item(key)


def test_update_replaces_and_delete_removes(flavour, key):
    _, registry = flavour
    registry.write_config_item(ConfigItem(key, "v1", type="text"))
    registry.write_config_item(ConfigItem(key, "v2", type="text"), replaces_md5=content_md5("v1"))
    assert registry.read_config_item(key).content == "v2"
    registry.delete_config_item(key)
    assert registry.read_config_item(key) is None
    assert key not in registry.list_config_items("public")


def test_it_lists_every_group_across_pages_in_a_created_namespace(flavour, monkeypatch):
    _, registry = flavour
    monkeypatch.setattr("syncapp.registries.nacos.configs.PAGE_SIZE", 2)
    namespace = f"cfg-{uuid.uuid4().hex[:6]}"
    registry.ensure_namespace(namespace)
    keys = [ConfigKey(namespace, g, f"d{n}.txt") for g in ("DEFAULT_GROUP", "G2") for n in range(3)]
    for k in keys:
        registry.write_config_item(ConfigItem(k, f"{k}", type="text"))
    assert set(registry.list_config_items(namespace)) == set(keys)
    for k in keys:
        registry.delete_config_item(k)


def test_a_change_is_pushed_within_a_second_or_two(flavour, key):
    _, registry = flavour
    registry.write_config_item(ConfigItem(key, "v1", type="text"))
    changes = queue.Queue()
    registry.watch_configs("/", changes.put)
    watcher = registry._config_watcher
    wait_until(lambda: watcher.known is not None and key in watcher.known, 10)
    registry.write_config_item(ConfigItem(key, "v2", type="text"))
    while changes.get(timeout=3) != key:  # the push, well before the next listing (5 s)
        pass
    registry.delete_config_item(key)
