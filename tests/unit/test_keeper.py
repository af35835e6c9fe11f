"""The keeper renews its own share of our registrations, and all of a dead node's."""

import time

import pytest
from django.db import OperationalError

from syncapp.keeper import Keeper, leases
from syncapp.membership import Membership
from syncapp.models import ServiceSync
from syncapp.registries import memory
from syncapp.registries.base import ServiceKey
from tests.unit.test_jobs_memory import make_task, ports_at, register, sync_round

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]
SERVICES = [ServiceKey("public", "DEFAULT_GROUP", f"svc{n}") for n in range(12)]


@pytest.fixture
def synced():
    task = make_task()
    for n, service in enumerate(SERVICES):
        register("a", service, 100 + n)
    sync_round(task)
    assert all(ports_at("b", s) for s in SERVICES)
    return task


def keeper_of(node: str, nodes: tuple[str, ...]) -> Keeper:
    keeper = Keeper(Membership(node), heartbeat_interval=5)
    keeper.membership.nodes = nodes
    return keeper


def lose_all_copies():
    for service in SERVICES:
        memory.store("b").services[service].clear()


def restored() -> set[str]:
    return {s.name for s in SERVICES if ports_at("b", s)}


def names_of_rows(keeper) -> set[str]:
    """Services whose copies at b this keeper owns."""
    rows = ServiceSync.objects.select_related("task")
    return {
        row.service for row in rows if keeper.owns_target((row.task.destination_id, key_of(row)))
    }


def key_of(row) -> ServiceKey:
    return ServiceKey(row.namespace, row.group, row.service)


def test_each_node_renews_only_its_own_share(synced):
    one, two = keeper_of("n1", ("n1", "n2")), keeper_of("n2", ("n1", "n2"))
    lose_all_copies()
    one.renew_round()
    assert restored() == names_of_rows(one) and 0 < len(restored()) < len(SERVICES)
    two.renew_round()
    assert restored() == {s.name for s in SERVICES}


def test_a_dead_nodes_share_is_renewed_by_the_survivor(synced):
    survivor = keeper_of("n1", ("n1", "n2"))
    survivor.membership.nodes = ("n1",)  # n2's entry expired
    lose_all_copies()
    status = survivor.renew_round()
    assert restored() == {s.name for s in SERVICES}
    assert status["beats"] == len(SERVICES) and status["nodes"] == ["n1"]


def test_renewals_go_on_from_memory_while_the_database_is_down(synced, monkeypatch):
    keeper = keeper_of("n1", ("n1",))
    keeper.renew_round()

    def database_down(*args, **kwargs):
        raise OperationalError("(2013, 'Lost connection to MySQL server')")

    monkeypatch.setattr(leases, "leased_rows", database_down)
    lose_all_copies()
    keeper.renew_round()
    assert restored() == {s.name for s in SERVICES}


def test_only_owned_ways_are_watched(synced):
    ways_owned = [keeper_of(n, ("n1", "n2")).owns_way((synced.pk, False)) for n in ("n1", "n2")]
    assert sorted(ways_owned) == [False, True]
    keeper = keeper_of("n1", ("n1", "n2"))
    keeper.step_feeds(reconcile=True)
    assert bool(keeper.feeds.watches) == keeper.owns_way((synced.pk, False))
    keeper.close()


def test_a_share_handed_over_is_renewed_at_once_and_alone(synced):
    keeper = keeper_of("n1", ("n1", "n2"))
    keeper.renew_round()  # learns every lease, renews n1's own share
    theirs = {s.name for s in SERVICES} - names_of_rows(keeper)
    lose_all_copies()
    keeper.refresh_membership()  # without Redis the view becomes n1 alone: n2 is gone
    deadline = time.monotonic() + 10
    while "takeover" not in keeper.status and time.monotonic() < deadline:
        time.sleep(0.05)
    assert keeper.status["takeover"]["nodes"] == ["n1"]
    assert restored() == theirs  # only what was n2's: n1's own waits for the next round
    keeper.close()


def test_failed_renewals_put_their_rows_in_error_until_they_succeed(synced):
    """A dead destination is seen at the next round, not when a job next writes there."""
    keeper = keeper_of("n1", ("n1",))
    memory.store("b").fail_writes = True
    keeper.renew_round()
    errors = set(ServiceSync.objects.values_list("last_error", "error_kind"))
    assert errors == {("keeping copies at b: b is down", "unreachable")}
    memory.store("b").fail_writes = False
    lose_all_copies()  # it came back empty
    keeper.renew_round()
    assert set(ServiceSync.objects.values_list("last_error", flat=True)) == {""}
    assert restored() == {s.name for s in SERVICES}
