"""Membership and ownership against the test-bed Redis: who is alive, who owns what."""

import time
import uuid

import pytest
import redis as redis_py

from syncapp.membership import Membership, owner_of

ITEMS = [f"row:{n}" for n in range(300)]


@pytest.fixture
def client(redis):
    conn = redis_py.Redis.from_url(redis, socket_timeout=2)
    yield conn
    conn.close()


@pytest.fixture
def members(client):
    key = f"msesync-test-nodes-{uuid.uuid4().hex[:8]}"
    nodes = [Membership(name, client, ttl=1.0, key=key) for name in ("n1", "n2", "n3")]
    yield nodes
    client.delete(key)


def refresh_all(nodes):
    for node in nodes:
        node.refresh()


def owners(nodes) -> dict[str, list[str]]:
    return {item: [n.node_id for n in nodes if n.owns(item)] for item in ITEMS}


def test_live_nodes_see_each_other_and_split_the_work(members):
    refresh_all(members)
    refresh_all(members)  # the first ones refreshed before the later ones had joined
    assert all(m.nodes == ("n1", "n2", "n3") for m in members)
    owned = owners(members)
    assert all(len(who) == 1 for who in owned.values())  # each item exactly once
    shares = [sum(who == [m.node_id] for who in owned.values()) for m in members]
    assert min(shares) > len(ITEMS) / 6  # roughly even: nobody is left idle


def test_a_silent_node_is_dropped_and_only_its_share_moves(members):
    refresh_all(members)
    refresh_all(members)
    before = {item: who[0] for item, who in owners(members).items()}
    survivors = members[:2]
    time.sleep(1.3)  # n3 stops refreshing; its entry outlives it by the TTL only
    refresh_all(survivors)
    refresh_all(survivors)  # n2 had lapsed too by n1's first refresh: the sleep was > TTL
    assert all(m.nodes == ("n1", "n2") for m in survivors)
    after = {item: who[0] for item, who in owners(survivors).items()}
    assert all(len(who) == 1 for who in owners(survivors).values())
    moved = {item for item in ITEMS if before[item] != after[item]}
    assert moved == {item for item in ITEMS if before[item] == "n3"}


def test_a_clean_stop_hands_over_at_once(members):
    refresh_all(members)
    members[2].leave()
    members[0].refresh()
    assert members[0].nodes == ("n1", "n2")


def test_without_redis_a_node_owns_everything():
    unreachable = redis_py.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    alone = Membership("n1", unreachable, ttl=1.0)
    alone.nodes = ("n1", "n2")  # as if the other node had been seen before Redis went away
    assert alone.refresh() is True
    assert alone.nodes == ("n1",) and all(alone.owns(item) for item in ITEMS)
    assert not alone.reachable


def test_the_owner_does_not_depend_on_the_order_nodes_are_listed():
    assert owner_of("row:7", ("a", "b", "c")) == owner_of("row:7", ("c", "a", "b"))


def test_a_node_about_to_join_sees_the_live_nodes_and_is_not_seen(members):
    first, joining = members[0], members[1]
    first.refresh()
    assert joining.peek() == ("n1", "n2")
    first.refresh()
    assert first.nodes == ("n1",)  # n2 holds its share before anyone hands it over
