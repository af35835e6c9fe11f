"""kazoo against the test-bed ZooKeeper: ephemeral znodes are created and listed."""

import uuid

import pytest


@pytest.fixture
def parent(zk):
    path = f"/msesync-smoke/{uuid.uuid4().hex[:8]}"
    zk.ensure_path(path)
    yield path
    zk.delete(path, recursive=True)


def test_it_lists_the_ephemeral_children_it_created(zk, parent):
    names = ["a", "b", "c"]
    for name in names:
        zk.create(f"{parent}/{name}", b"payload", ephemeral=True)

    assert sorted(zk.get_children(parent)) == names


def test_its_ephemeral_nodes_belong_to_its_session(zk, parent):
    zk.create(f"{parent}/mine", ephemeral=True)

    _, stat = zk.get(f"{parent}/mine")

    assert stat.ephemeralOwner == zk.client_id[0]
