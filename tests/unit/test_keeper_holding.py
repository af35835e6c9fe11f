"""Copies held by a connection (Nacos over gRPC) are written by the keeper that owns them."""

import datetime
import threading
import time

import pytest
from django.utils import timezone

from syncapp import jobs
from syncapp.connections import forget_all
from syncapp.keeper import HANDOVER_GRACE, Keeper, item_of, leases
from syncapp.membership import Membership, owner_of
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import ServiceKey
from tests.unit.test_jobs_memory import ports_at, register

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
SVC = ServiceKey("public", "DEFAULT_GROUP", "orders")


@pytest.fixture(autouse=True)
def closed_adapters():
    yield
    forget_all()


def held_task(source="a"):
    a, _ = Cluster.objects.get_or_create(
        cluster_name=source, defaults={"cluster_type": "MEMORY", "connect_keys": ["m"]}
    )
    b, _ = Cluster.objects.get_or_create(
        cluster_name="b", defaults={"cluster_type": "MEMORY_HELD", "connect_keys": ["m"]}
    )
    return SyncTask.objects.create(source=a, destination=b)


def keeper(node="n1", nodes=("n1",)) -> Keeper:
    k = Keeper(Membership(node), heartbeat_interval=5, reload_every=0)  # every round reads all
    k.membership.nodes = nodes
    return k


def sync(task):
    for row_id in jobs.scan_task(task.pk):
        jobs.sync_service(row_id)


def holding_orders() -> tuple[SyncTask, Keeper]:
    """A task whose keeper holds the source's orders at ports 1 and 2."""
    task = held_task()
    register("a", SVC, 1, 2)
    k = keeper()
    k.apply_changes()  # first look: from now on
    sync(task)
    k.apply_changes()
    return task, k


def test_a_job_writes_nothing_and_the_keeper_holds_what_changed_within_a_step():
    task = held_task()
    register("a", SVC, 1, 2)
    k = keeper()
    k.apply_changes()  # first look: from now on
    sync(task)
    assert ports_at("b") == []  # the worker's connection holds nothing
    assert k.apply_changes() == 1
    assert ports_at("b") == [1, 2]
    register("a", SVC, 3)
    sync(task)
    k.apply_changes()
    assert ports_at("b") == [1, 2, 3]


def counts() -> tuple[int, int]:
    row = ServiceSync.objects.get()
    return row.source_count, row.dest_count


def test_a_rows_destination_count_is_what_its_keeper_holds_not_what_a_job_planned():
    task = held_task()
    register("a", SVC, 1, 2)
    k = keeper()
    k.apply_changes()
    sync(task)
    assert counts() == (2, 0)  # planned, not held yet: not "synced"
    k.apply_changes()
    assert counts() == (2, 2)
    memory.store("b").refuse_writes = "connection reset"
    register("a", SVC, 3)
    sync(task)
    k.apply_changes()
    assert counts() == (3, 2)  # the hold failed: the destination still has the old two
    assert "connection reset" in ServiceSync.objects.get().last_error
    memory.store("b").refuse_writes = ""
    k.renew_round()
    assert counts() == (3, 3) and ServiceSync.objects.get().last_error == ""


def test_a_job_reads_the_true_count_of_held_copies_once_they_settled():
    """A held set lost at the destination (a keeper gone, a registry restarted) shows at the
    next job that re-reads it, not as the count planned long ago."""
    holding_orders()
    assert counts() == (2, 2)
    memory.store("b").services.clear()  # lost at the destination (its registry restarted)
    long_ago = timezone.now() - jobs.HOLD_SETTLED - datetime.timedelta(seconds=1)
    ServiceSync.objects.update(leases_changed_at=long_ago)
    jobs.sync_service(ServiceSync.objects.get().pk, force=True)
    assert counts() == (2, 0)


def test_a_lost_holding_connection_puts_its_rows_in_error_until_it_holds_them_again():
    task = held_task()
    register("a", SVC, 1, 2)
    sync(task)
    k = keeper()
    k.renew_round()
    assert counts() == (2, 2)
    memory.store("b").connection_lost = True
    memory.store("b").services.clear()  # the destination dropped the connection's copies
    k.renew_round()
    row = ServiceSync.objects.get()
    assert row.last_error.startswith("keeping copies at b: unreachable")
    jobs.sync_service(row.pk)  # an unchanged source: the job's skip must not hide it
    assert ServiceSync.objects.get().last_error == row.last_error
    # Nor may a job that read the destination and found the copies missing (the registry is
    # back, the keeper's connection not yet): the console said "synced" with nothing there.
    jobs.sync_service(row.pk, force=True)
    assert ServiceSync.objects.get().last_error == row.last_error
    memory.store("b").connection_lost = False
    k.renew_round()
    assert ports_at("b") == [1, 2]  # held again, not only believed held
    assert counts() == (2, 2) and ServiceSync.objects.get().last_error == ""


def test_rows_of_two_tasks_into_one_service_are_held_as_one_set():
    register("a", SVC, 1)
    register("c", SVC, 2)
    tasks = [held_task("a"), held_task("c")]
    for task in tasks:
        sync(task)
    keeper().renew_round()
    assert ports_at("b") == [1, 2]  # one hold per service would otherwise keep only one


def test_a_service_gone_from_the_source_is_withdrawn_within_a_step_then_its_row_dropped():
    task = held_task()
    register("a", SVC, 1)
    sync(task)
    k = keeper()
    k.renew_round()
    assert ports_at("b") == [1]
    memory.store("a").services.clear()
    sync(task)  # retired: its copies are emptied, the row stays until the keeper saw it
    sync(task)  # a scan before the keeper's next look keeps the row: it is the only signal
    assert ServiceSync.objects.get().leases == []
    k.apply_changes()
    assert ports_at("b") == []
    settled = timezone.now() - 2 * jobs.CHANGES_OVERLAP - datetime.timedelta(seconds=1)
    ServiceSync.objects.update(leases_changed_at=settled)
    sync(task)  # once every keeper had time to look, the next scan drops the row
    assert not ServiceSync.objects.exists()


def test_a_service_nobody_wants_any_more_is_withdrawn_at_the_next_full_round():
    task = held_task()
    register("a", SVC, 1)
    sync(task)
    k = keeper()
    k.renew_round()
    ServiceSync.objects.all().delete()  # e.g. the task was deleted
    k.renew_round()
    assert ports_at("b") == []


def test_a_share_given_away_is_withdrawn_only_after_the_new_owner_had_time():
    task = held_task()
    services = [ServiceKey("public", "DEFAULT_GROUP", f"s{n}") for n in range(12)]
    for n, service in enumerate(services):
        register("a", service, 100 + n)
    sync(task)
    alone = keeper("n1", ("n1",))
    alone.renew_round()
    assert all(ports_at("b", s) for s in services)
    alone.membership.nodes = ("n1", "n2")  # n2 joined and owns part of the share now
    alone.renew_round()
    assert all(ports_at("b", s) for s in services)  # still held: n2 registers first
    time.sleep(HANDOVER_GRACE + 0.1)
    alone.renew_round()
    mine = {s for s in services if alone.owns_target((task.destination_id, s))}
    assert 0 < len(mine) < len(services)
    assert {s for s in services if ports_at("b", s)} == mine


def test_a_refused_hold_stays_on_the_row_until_a_retry_succeeds():
    task = held_task()
    register("a", SVC, 1)
    k = keeper()
    k.apply_changes()
    memory.store("b").refuse_writes = "metadata value too long (1500 > 1024)"
    sync(task)
    k.apply_changes()
    row = ServiceSync.objects.get()
    assert "metadata value too long" in row.last_error and row.last_error_at
    jobs.sync_service(row.pk)  # an unchanged source: the job's success must not hide it
    k.renew_round()
    assert "metadata value too long" in ServiceSync.objects.get().last_error
    memory.store("b").refuse_writes = ""
    k.renew_round()
    assert ports_at("b") == [1]
    assert ServiceSync.objects.get().last_error == ""


def test_a_joining_keeper_holds_its_share_before_it_is_seen():
    """The others withdraw what moves to a new node HANDOVER_GRACE after they see it: the new
    node registers its share before it shows itself (register before withdraw)."""
    task = held_task()
    services = [ServiceKey("public", "DEFAULT_GROUP", f"s{n}") for n in range(12)]
    for n, service in enumerate(services):
        register("a", service, 100 + n)
    sync(task)
    joining = keeper("n2", ("n2",))
    joining.membership.peek = lambda: ("n1", "n2")  # n1 is alive (Redis: integration test)
    joining.hold_before_joining()
    mine = {
        s for s in services if owner_of(item_of((task.destination_id, s)), ("n1", "n2")) == "n2"
    }
    assert 0 < len(mine) < len(services)
    assert {s for s in services if ports_at("b", s)} == mine


def test_a_full_round_sends_nothing_for_sets_held_already():
    task = held_task()
    services = [ServiceKey("public", "DEFAULT_GROUP", f"s{n}") for n in range(5)]
    for n, service in enumerate(services):
        register("a", service, 100 + n)
    sync(task)
    k = keeper()  # reload_every=0: every round is a full one
    k.renew_round()
    holds = memory.store("b").holds
    assert holds == len(services)
    k.renew_round()
    assert memory.store("b").holds == holds  # nothing changed: nothing sent
    register("a", services[0], 200)
    sync(task)
    k.renew_round()
    assert memory.store("b").holds == holds + 1 and ports_at("b", services[0]) == [100, 200]


def test_a_refused_withdrawal_is_tried_again_at_the_next_round():
    task = held_task()
    register("a", SVC, 1)
    sync(task)
    k = keeper()
    k.renew_round()
    ServiceSync.objects.all().delete()  # nobody wants the copy any more
    memory.store("b").refuse_writes = "connection reset"
    k.renew_round()
    assert ports_at("b") == [1]
    memory.store("b").refuse_writes = ""
    k.renew_round()  # the plan did not change since: the failure alone brings it back
    assert ports_at("b") == []


def test_a_change_stamped_during_a_step_longer_than_the_overlap_is_held_at_the_next():
    """A step that held thousands of services took 6 s: rows stamped meanwhile must not fall
    out of the window the next look reads (they waited for the full reload, a minute)."""
    task = held_task()
    register("a", SVC, 1, 2)
    k = keeper()
    k.apply_changes()  # first look
    sync(task)
    long_step = datetime.timedelta(seconds=30)
    k.plan.looked_at -= long_step  # that look was 30 s ago
    stamp = timezone.now() - long_step + datetime.timedelta(seconds=1)
    ServiceSync.objects.update(leases_changed_at=stamp)
    assert k.apply_changes() == 1
    assert ports_at("b") == [1, 2]


@pytest.mark.django_db(transaction=True)  # the changes thread reads the rows too
def test_a_round_never_writes_back_a_set_a_change_replaced_while_it_ran(monkeypatch):
    """A full round reads every set, then writes those not held as read; a change applied
    meanwhile by the changes thread must not be undone by the round's older copy of it."""
    task, k = holding_orders()
    assert ports_at("b") == [1, 2]
    real_keep, changer = leases.keep, None

    def keep_slowly(cluster, beats, **kwargs):
        nonlocal changer
        if changer is None:  # the round has read its sets: a change comes meanwhile
            register("a", SVC, 3)
            sync(task)
            changer = threading.Thread(target=k.apply_changes)
            changer.start()
            changer.join(0.5)  # it waits for the round (else it would be done by now)
        return real_keep(cluster, beats, **kwargs)

    monkeypatch.setattr(leases, "keep", keep_slowly)
    k.renew_round()
    changer.join(5)
    assert ports_at("b") == [1, 2, 3]
