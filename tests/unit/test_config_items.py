"""Nacos-style config sync over the memory registry: ownership, conflicts, two ways, echoes."""

import pytest

from syncapp import config_jobs
from syncapp.engine import config_items as engine
from syncapp.models import Cluster, ConfigSync, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import ConfigItem, ConfigKey, content_md5

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
KEY = ConfigKey("public", "DEFAULT_GROUP", "app.yaml")


def make_task(mode=SyncTask.UNIDIRECTIONAL, pattern=".*", **kw):
    a = Cluster.objects.create(cluster_name="a", cluster_type="MEMORY", connect_keys=["m"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY", connect_keys=["m"])
    return SyncTask.objects.create(
        source=a,
        destination=b,
        sync_type=SyncTask.CONFIG,
        mode=mode,
        service_match_pattern=pattern,
        **kw,
    )


def put(cluster, content, key=KEY, **attrs):
    memory.store(cluster).configs[key] = ConfigItem(key, content, **attrs)


def content(cluster, key=KEY):
    item = memory.store(cluster).configs.get(key)
    return item.content if item else None


def sync(task):
    config_jobs.sync_configs(task.pk)
    task.refresh_from_db()
    return task


def writes(*clusters):
    return sum(memory.store(c).config_writes for c in clusters)


def test_it_copies_content_and_attributes_and_matches_group_slash_data_id():
    task = make_task(pattern="DEFAULT_GROUP/app.*")
    put("a", "x: 1 — ü", type="yaml", desc="d", tags="t1,t2", app_name="orders")
    other = ConfigKey("public", "OTHER", "app.yaml")
    put("a", "not matched", key=other)
    sync(task)
    assert memory.store("b").configs[KEY] == ConfigItem(
        KEY, "x: 1 — ü", type="yaml", desc="d", tags="t1,t2", app_name="orders"
    )
    assert content("b", other) is None
    row = ConfigSync.objects.get()
    assert (row.md5, row.written, row.writes) == (content_md5("x: 1 — ü"), "destination", 1)


def test_updates_and_deletions_follow_and_a_quiet_pass_writes_nothing():
    task = make_task()
    put("a", "v1")
    sync(task)
    put("a", "v2")
    sync(task)
    assert content("b") == "v2"
    before = writes("a", "b")
    sync(task)
    assert writes("a", "b") == before
    del memory.store("a").configs[KEY]
    sync(task)
    assert content("b") is None
    assert not ConfigSync.objects.exists()


def test_a_native_destination_config_is_a_conflict_not_overwritten():
    task = make_task()
    put("a", "source")
    put("b", "native")
    task = sync(task)
    assert content("b") == "native"
    assert ConfigSync.objects.get().conflict.startswith("differs from the source")
    assert "1 config conflicts" in task.last_error
    del memory.store("a").configs[KEY]
    sync(task)
    assert content("b") == "native"  # never deleted: not ours


def test_with_the_task_option_a_native_config_is_overwritten():
    task = make_task(overwrite_native=True)
    put("a", "source")
    put("b", "native")
    sync(task)
    assert content("b") == "source"


def test_a_copy_changed_at_the_destination_is_not_deleted_nor_overwritten():
    task = make_task()
    put("a", "v1")
    sync(task)
    put("b", "edited")
    sync(task)
    assert content("b") == "edited"
    assert "changed at the destination" in ConfigSync.objects.get().conflict
    del memory.store("a").configs[KEY]
    sync(task)
    assert content("b") == "edited"


def test_a_destination_equal_to_the_source_is_in_step_without_a_write():
    task = make_task()
    put("a", "same")
    put("b", "same")
    sync(task)
    assert writes("a", "b") == 0
    assert ConfigSync.objects.get().written == ""


def test_two_way_edits_travel_both_ways_and_echoes_stop():
    task = make_task(mode=SyncTask.BIDIRECTIONAL)
    put("a", "from a")
    put("b", "from b", key=ConfigKey("public", "G", "b.properties"))
    sync(task)
    assert content("b") == "from a"
    assert content("a", ConfigKey("public", "G", "b.properties")) == "from b"
    put("b", "edited at b")
    sync(task)
    assert content("a") == "edited at b"
    before = writes("a", "b")
    for _ in range(3):
        sync(task)
    assert writes("a", "b") == before


def test_two_way_edits_on_both_sides_are_a_conflict():
    task = make_task(mode=SyncTask.BIDIRECTIONAL)
    put("a", "v1")
    sync(task)
    put("a", "a's edit")
    put("b", "b's edit")
    sync(task)
    assert (content("a"), content("b")) == ("a's edit", "b's edit")
    assert "both sides" in ConfigSync.objects.get().conflict


def test_two_way_deleting_the_original_deletes_the_copy_but_not_the_reverse():
    task = make_task(mode=SyncTask.BIDIRECTIONAL)
    put("a", "original")
    sync(task)
    del memory.store("b").configs[KEY]  # msesync's copy
    sync(task)
    assert content("b") == "original"  # copied again
    del memory.store("a").configs[KEY]  # the original
    sync(task)
    assert content("b") is None


def test_an_unreadable_side_decides_nothing():
    task = make_task()
    put("a", "v1")
    sync(task)
    memory.store("a").fail_reads = True
    task = sync(task)
    assert content("b") == "v1"
    assert "down" in task.last_error


@pytest.mark.parametrize(
    "a, b, seen, two_way, action",
    [
        ("1", None, None, False, engine.COPY),
        (None, "1", None, False, engine.NOTHING),
        (None, "1", None, True, engine.COPY_BACK),
        ("2", "1", engine.Seen("1", engine.DEST), False, engine.COPY),
        ("1", "2", engine.Seen("1", engine.DEST), True, engine.COPY_BACK),
        ("1", "2", engine.Seen("1", engine.DEST), False, engine.CONFLICT),
        (None, "1", engine.Seen("1", engine.DEST), False, engine.DELETE_DEST),
        ("1", None, engine.Seen("1", engine.SOURCE), True, engine.DELETE_SOURCE),
        ("1", None, engine.Seen("1", engine.DEST), True, engine.COPY),
        (None, None, engine.Seen("1", engine.DEST), True, engine.FORGET),
    ],
)
def test_decisions(a, b, seen, two_way, action):
    assert engine.decide(a, b, seen, two_way, overwrite=False).action == action


def test_status_and_metrics_count_configs_in_step_conflicts_and_writes():
    from syncapp.ops.metrics import DatabaseCollector
    from syncapp.status import all_status

    task = make_task()
    put("a", "v1")
    put("a", "x", key=ConfigKey("public", "G", "other"))
    put("b", "native", key=ConfigKey("public", "G", "other"))
    sync(task)
    [shown] = all_status()
    assert shown["configs"] == {"in_step": 1, "conflicts": 1, "writes": 1}
    samples = {
        f.name: s.value for f in DatabaseCollector().collect() for s in f.samples if s.labels
    }
    assert samples["msesync_task_configs"] == 1
    assert samples["msesync_task_config_conflicts"] == 1
    assert samples["msesync_task_config_writes"] == 1


def test_a_pass_over_named_configs_touches_only_those():
    from syncapp import config_sync

    task = make_task()
    other = ConfigKey("public", "G", "other")
    put("a", "v1")
    put("a", "o1", key=other)
    sync(task)
    put("a", "v2")
    put("a", "o2", key=other)
    config_jobs.sync_configs(task.pk, [[KEY.namespace, KEY.group, KEY.data_id]])
    assert (content("b"), content("b", other)) == ("v2", "o1")
    outside = ConfigKey("elsewhere", "G", "x")  # not a namespace of the task: ignored
    assert not config_sync.sync_items(
        task,
        *[memory.MemoryRegistry(c.config()) for c in (task.source, task.destination)],
        [outside],
    ).writes


def test_the_feed_sends_a_config_task_its_changed_configs_in_one_job():
    from syncapp.feeds import CONFIGS, Feeds

    sent = []
    feeds = Feeds(send_task=lambda name, args, queue: sent.append(args), owns=lambda w: False)
    other = ConfigKey("public", "G", "other")
    for key in (KEY, other):
        feeds.note((7, CONFIGS), key)
    feeds.step(reconcile=False)
    assert sent == [[7, [["public", "DEFAULT_GROUP", "app.yaml"], ["public", "G", "other"]]]]
    feeds.note((7, CONFIGS), None)
    feeds.step(reconcile=False)
    assert sent[-1] == [7]


def test_the_console_shows_a_config_task_s_configs_and_conflicts(console):
    task = make_task()
    put("a", "v1")
    put("a", "x", key=ConfigKey("public", "G", "clash.yaml"))
    put("b", "native", key=ConfigKey("public", "G", "clash.yaml"))
    sync(task)
    listing = console.get("/").content.decode()
    assert "1 config in step" in listing and "(1 conflict)" in listing
    page = console.get(f"/tasks/{task.pk}/").content.decode()
    assert 'id="task-conflicts">1<' in page
    assert page.index("clash.yaml") < page.index("app.yaml")  # conflicts first
    assert "not written by msesync" in page


def test_a_pass_waits_for_a_live_one_and_takes_over_a_dead_one(monkeypatch):
    import datetime

    from django.utils import timezone

    sent = []
    monkeypatch.setattr(
        config_jobs.current_app, "send_task", lambda name, **kw: sent.append(kw["args"])
    )
    task = make_task()
    put("a", "v1")
    SyncTask.objects.filter(pk=task.pk).update(scanning_since=timezone.now())
    sync(task)
    assert content("b") is None and sent == [[task.pk]]  # one more pass queued after it
    dead = timezone.now() - config_jobs.PASS_LEASE - datetime.timedelta(seconds=1)
    SyncTask.objects.filter(pk=task.pk).update(scanning_since=dead)
    task = sync(task)
    assert content("b") == "v1" and task.scanning_since is None


def test_a_two_way_task_watches_its_destination_in_the_source_s_namespaces():
    from syncapp.feeds import CONFIGS_BACK, Feeds

    task = make_task(mode=SyncTask.BIDIRECTIONAL)
    Cluster.objects.filter(pk=task.source_id).update(namespaces="public,dev")
    feeds = Feeds(send_task=lambda *a, **k: None)
    feeds.reconcile_watches()
    _, adapter = feeds.watches[(task.pk, CONFIGS_BACK)]
    assert (adapter.config.name, adapter.config.namespaces) == ("b", ("public", "dev"))
    feeds.close()
