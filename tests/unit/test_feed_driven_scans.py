"""Issue 12: with a live push feed, scans leave unchanged services to it; the refresh and a
feed that lost track (or is not stamped) make the next scan full again."""

import datetime

import pytest
from django.utils import timezone

from syncapp import coalesce, jobs
from syncapp import feeds as feeds_module
from syncapp.feeds import Feeds
from syncapp.models import ServiceSync, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.memory import MemoryRegistry
from tests.support.memory_tasks import memory_task
from workers import tasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
SERVICES = [ServiceKey("public", "DEFAULT_GROUP", f"s{n}") for n in range(4)]


@pytest.fixture
def task():
    return memory_task(SERVICES)


@pytest.fixture
def listings(monkeypatch):
    """How many times scans listed the source's services."""
    count = {"n": 0}
    original = MemoryRegistry.list_services

    def counted(self, namespace):
        count["n"] += 1
        return original(self, namespace)

    monkeypatch.setattr(MemoryRegistry, "list_services", counted)
    return count


def synced_once(task) -> None:
    """The first scan (a new task's is full) and every job it queued."""
    for row_id in jobs.scan_task(task.pk):
        jobs.sync_service(row_id)


def test_a_scan_trusting_a_live_feed_lists_nothing_and_queues_nothing(task, listings):
    synced_once(task)
    coalesce.stamp_live_feeds([(task.pk, False)])
    before = listings["n"]
    assert jobs.scan_task(task.pk) == []
    assert listings["n"] == before, "the source is not listed"


def test_it_still_queues_what_the_feed_cannot_cover(task):
    synced_once(task)
    coalesce.stamp_live_feeds([(task.pk, False)])
    rows = list(ServiceSync.objects.filter(task=task).order_by("pk"))
    ServiceSync.objects.filter(pk=rows[0].pk).update(last_error="unreachable")
    ServiceSync.objects.filter(pk=rows[1].pk).update(source_digest="")  # never synced
    ServiceSync.objects.filter(pk=rows[2].pk).update(retired=True)
    assert sorted(jobs.scan_task(task.pk)) == [rows[0].pk, rows[1].pk, rows[2].pk]


def test_a_stale_stamp_means_a_full_scan(task, listings):
    synced_once(task)
    stale = timezone.now() - jobs.FEED_TRUSTED_FOR - datetime.timedelta(seconds=1)
    SyncTask.objects.filter(pk=task.pk).update(feed_alive_at=stale)
    before = listings["n"]
    assert len(jobs.scan_task(task.pk)) == len(SERVICES)
    assert listings["n"] > before


def test_the_refresh_makes_the_next_scan_full_once(task, monkeypatch):
    synced_once(task)
    coalesce.stamp_live_feeds([(task.pk, False)])
    for name in ("scan_task", "sync_configs"):  # nothing is sent: the test runs the scan
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda *args: None)
    tasks.refresh_all()
    assert SyncTask.objects.get(pk=task.pk).full_scan_due
    assert ServiceSync.objects.filter(task=task, source_digest="").count() == len(SERVICES)
    assert len(jobs.scan_task(task.pk)) == len(SERVICES)
    for row_id in ServiceSync.objects.filter(task=task).values_list("pk", flat=True):
        jobs.sync_service(row_id)
    assert jobs.scan_task(task.pk) == [], "the one after it is light again"


def test_a_full_scan_that_fails_stays_due(task, monkeypatch):
    synced_once(task)
    coalesce.stamp_live_feeds([(task.pk, False)])
    coalesce.want_full_scan([task.pk])

    def unreachable(self, namespace):
        raise jobs.RegistryError("down")

    monkeypatch.setattr(MemoryRegistry, "list_services", unreachable)
    jobs.scan_task(task.pk)
    assert SyncTask.objects.get(pk=task.pk).full_scan_due


def test_a_new_watch_makes_the_next_scan_full_and_a_live_one_is_stamped(task, monkeypatch):
    synced_once(task)
    assert not SyncTask.objects.get(pk=task.pk).full_scan_due
    monkeypatch.setattr(MemoryRegistry, "feed_alive", lambda self: True)
    feeds = Feeds(send_task=lambda *args, **kwargs: None)
    try:
        feeds.step()
        task.refresh_from_db()
        assert task.full_scan_due, "events before the watch began were not reported"
        assert task.feed_alive_at is not None and task.reverse_feed_alive_at is None
    finally:
        feeds.close()


def started_watch(task, monkeypatch) -> None:
    """A keeper's feed of the task begins (and is live at once)."""
    monkeypatch.setattr(MemoryRegistry, "feed_alive", lambda self: True)
    feeds = Feeds(send_task=lambda *args, **kwargs: None)
    try:
        feeds.step()
    finally:
        feeds.close()


def test_after_a_watch_begins_only_services_read_changed_are_synced_again(task, monkeypatch):
    """A source whose listing reads instances (ZooKeeper's Dubbo providers): the scan after
    a feed began compares what it read, and queues only what changed before the watch."""
    source = MemoryRegistry(ClusterConfig("a", "MEMORY", ("m",)))
    memory.store("a").listing_reads_instances = True
    synced_once(task)
    changed = SERVICES[2]
    source.register(changed, Instance("10.9.9.9", 1))  # before the watch: no event
    started_watch(task, monkeypatch)
    assert not forgotten(task), "digests are kept: unchanged services need no job"
    queued = jobs.scan_task(task.pk)
    assert [ServiceSync.objects.get(pk=pk).service for pk in queued] == [changed.name]
    assert jobs.scan_task(task.pk) == [], "the one after it trusts the feed again"


def test_after_a_watch_begins_services_the_listing_did_not_read_go_to_jobs(task, monkeypatch):
    """A listing of names only: every service goes to a job, whose unchanged source skips."""
    synced_once(task)
    started_watch(task, monkeypatch)
    assert sorted(jobs.scan_task(task.pk)) == sorted(
        ServiceSync.objects.filter(task=task).values_list("pk", flat=True)
    )
    assert not forgotten(task)


def test_a_failed_scan_after_a_watch_began_keeps_the_events_missed(task, monkeypatch):
    synced_once(task)
    started_watch(task, monkeypatch)

    def unreachable(self, namespace):
        raise jobs.RegistryError("down")

    with monkeypatch.context() as patched:
        patched.setattr(MemoryRegistry, "list_services", unreachable)
        jobs.scan_task(task.pk)
    assert SyncTask.objects.get(pk=task.pk).events_missed
    assert len(jobs.scan_task(task.pk)) == len(SERVICES)


def test_a_feed_not_alive_is_not_stamped(task):
    feeds = Feeds(send_task=lambda *args, **kwargs: None)
    try:
        feeds.step()
        assert SyncTask.objects.get(pk=task.pk).feed_alive_at is None
    finally:
        feeds.close()


def forgotten(task) -> list[int]:
    rows = ServiceSync.objects.filter(task=task, source_digest="").order_by("pk")
    return list(rows.values_list("pk", flat=True))


def test_the_refresh_re_verifies_a_bounded_batch_in_turn(task, monkeypatch, settings):
    settings.REFRESH_BATCH = 3
    synced_once(task)
    coalesce.stamp_live_feeds([(task.pk, False)])
    for name in ("scan_task", "sync_configs"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda *args: None)
    pks = sorted(ServiceSync.objects.filter(task=task).values_list("pk", flat=True))
    tasks.refresh_all()
    assert forgotten(task) == pks[:3]
    assert sorted(jobs.scan_task(task.pk)) == pks[:3], "a trusted full scan: the batch only"
    for row_id in pks[:3]:
        jobs.sync_service(row_id)
    tasks.refresh_all()
    assert forgotten(task) == [pks[0], pks[1], pks[3]], "on from the cursor, round again"


def test_a_full_scan_of_a_way_without_a_trusted_feed_syncs_every_row(task, settings):
    settings.REFRESH_BATCH = 1
    synced_once(task)
    coalesce.refresh([task.pk], lambda rows: 1)
    assert len(jobs.scan_task(task.pk)) == len(SERVICES)


@pytest.mark.parametrize(
    ("rows", "batch"),
    [(4, 100), (100, 100), (1000, 100), (5000, 500), (10_000, 1000), (30_000, 1000)],
)
def test_a_refresh_batch_is_a_tenth_of_the_rows_within_its_bounds(rows, batch):
    """Every service re-verified within 10 refreshes up to 10,000 (every one, up to 100):
    1,000 each time at any size was every service every minute at 1,000 services."""
    assert coalesce.refresh_batch(rows, rounds=10, least=100, most=1000) == batch


def test_the_beat_refresh_sizes_each_tasks_batch_by_its_rows(monkeypatch, settings):
    settings.REFRESH_ROUNDS, settings.REFRESH_MIN_BATCH, settings.REFRESH_BATCH = 2, 1, 10
    small = memory_task(SERVICES)  # 4 services: 2 a refresh
    synced_once(small)
    for name in ("scan_task", "sync_configs"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda *args: None)
    tasks.refresh_all()
    assert len(forgotten(small)) == 2


def test_a_feed_still_arming_its_watches_asks_for_no_scan_until_it_is_ready(task, monkeypatch):
    """A scan for the events missed before the feed must not read a service before its
    watch is on (a change between the two would be lost): it is asked for once the feed is
    ready, not when it starts."""
    synced_once(task)
    ready = {"now": False}
    monkeypatch.setattr(MemoryRegistry, "feed_alive", lambda self: True)
    monkeypatch.setattr(MemoryRegistry, "feed_ready", lambda self: ready["now"])
    feeds = Feeds(send_task=lambda *args, **kwargs: None)
    try:
        feeds.step()
        assert not SyncTask.objects.get(pk=task.pk).events_missed
        ready["now"] = True
        feeds.step(reconcile=False)
        assert SyncTask.objects.get(pk=task.pk).events_missed
        SyncTask.objects.filter(pk=task.pk).update(events_missed=False, full_scan_due=False)
        feeds.step()
        assert not SyncTask.objects.get(pk=task.pk).events_missed, "asked for once"
    finally:
        feeds.close()


def awaiting_first_holds(task, since: datetime.timedelta = datetime.timedelta(0)) -> None:
    """Every row's copies recorded `since` ago, not held yet (what a first sync's scan leaves
    for a keeper: dest_count 0, no error)."""
    copies = [Instance("10.1.1.1", 80).to_dict()]
    ServiceSync.objects.filter(task=task).update(
        leases=copies, leases_changed_at=timezone.now() - since, dest_count=0, last_error=""
    )


def test_the_scan_for_missed_events_waits_while_first_copies_await_their_hold(
    task, monkeypatch, listings
):
    synced_once(task)
    started_watch(task, monkeypatch)
    awaiting_first_holds(task)
    before = listings["n"]
    assert jobs.scan_task(task.pk) == []
    assert listings["n"] == before, "no listing while the keeper holds"
    assert SyncTask.objects.get(pk=task.pk).events_missed, "still asked for"
    ServiceSync.objects.filter(task=task).update(dest_count=1)  # the keeper held them
    assert len(jobs.scan_task(task.pk)) == len(SERVICES)
    assert listings["n"] > before
    assert not SyncTask.objects.get(pk=task.pk).events_missed


def test_copies_awaiting_a_hold_for_long_no_longer_hold_the_scan_back(task, monkeypatch, listings):
    synced_once(task)
    started_watch(task, monkeypatch)
    awaiting_first_holds(task, since=coalesce.HOLDS_AWAITED_FOR + datetime.timedelta(seconds=1))
    before = listings["n"]
    assert len(jobs.scan_task(task.pk)) == len(SERVICES)
    assert listings["n"] > before


def test_any_listing_waits_while_copies_await_their_first_hold(task, listings):
    synced_once(task)
    coalesce.want_full_scan([task.pk])  # a refresh or a resync: due, and kept for later
    awaiting_first_holds(task)
    before = listings["n"]
    jobs.scan_task(task.pk)
    assert listings["n"] == before
    assert SyncTask.objects.get(pk=task.pk).full_scan_due


def test_a_new_feed_waits_while_its_tasks_first_sync_is_on(task, monkeypatch):
    """Arming its watches would compete with the first copies' holds for the same CPU."""
    monkeypatch.setattr(MemoryRegistry, "feed_alive", lambda self: True)
    way = (task.pk, False)
    coalesce.claim_scans([task.pk])  # applied: its first scan is queued
    feeds = Feeds(send_task=lambda *args, **kwargs: None)
    try:
        feeds.step()
        assert way not in feeds.watches, "the first scan is queued"
        synced_once(task)
        awaiting_first_holds(task)
        feeds.step()
        assert way not in feeds.watches, "its copies await their hold"
        ServiceSync.objects.filter(task=task).update(dest_count=1)  # held
        feeds.step()
        assert way in feeds.watches
        assert SyncTask.objects.get(pk=task.pk).events_missed, "what changed meanwhile is found"
    finally:
        feeds.close()


def test_a_dead_first_scan_holds_no_feed_back(task, monkeypatch):
    """A scanner killed during the first scan left its lease: once it lapses, the feed starts
    (its missed-events listing finds what the dead scan never read)."""
    monkeypatch.setattr(MemoryRegistry, "feed_alive", lambda self: True)
    lapsed = timezone.now() - coalesce.SCAN_LEASE - datetime.timedelta(seconds=1)
    SyncTask.objects.filter(pk=task.pk).update(scanning_since=lapsed)
    assert feed_starts(task)


def test_a_feed_waits_for_a_first_sync_only_so_long(task, monkeypatch):
    monkeypatch.setattr(feeds_module, "FEED_START_WAIT", 0.0)
    coalesce.claim_scans([task.pk])
    assert feed_starts(task)


def feed_starts(task) -> bool:
    """Whether a keeper's first feeds step starts the task's feed."""
    feeds = Feeds(send_task=lambda *args, **kwargs: None)
    try:
        feeds.step()
        return (task.pk, False) in feeds.watches
    finally:
        feeds.close()
