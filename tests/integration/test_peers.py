"""Keepers see each other die through their sockets, within milliseconds (real Redis).

Membership in Redis expires a dead node after its TTL (3 s); a Nacos server drops a dead
holder's copies ~0.6 s after it dies. A killed process's sockets are closed by its kernel,
so the peers' end-of-file is the fast signal.
"""

import os
import queue
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis as redis_py

from syncapp.keeper import peers as peers_module
from syncapp.keeper.peers import Peers
from syncapp.membership import Membership

PEER_PROCESS = """
import sys, time
import django, redis
django.setup()
from syncapp.keeper import peers
peers.PEERS_KEY = sys.argv[2]
p = peers.Peers("victim", redis.Redis.from_url(sys.argv[1]), "127.0.0.1:0", lambda node: None)
p.publish()
print("ready", flush=True)
time.sleep(600)
"""


@pytest.fixture
def peers_key(redis, monkeypatch):
    key = f"msesync-test-peers-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(peers_module, "PEERS_KEY", key)
    yield key
    redis_py.Redis.from_url(redis).delete(key)


def test_a_killed_peer_is_known_dead_within_milliseconds(redis, peers_key):
    victim = subprocess.Popen(
        [sys.executable, "-c", PEER_PROCESS, redis, peers_key],
        stdout=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.getcwd(),
            "DJANGO_SETTINGS_MODULE": "msesync_site.settings",
        },
    )
    deaths = queue.Queue()
    watcher = Peers("watcher", redis_py.Redis.from_url(redis), "127.0.0.1:0", deaths.put)
    try:
        assert victim.stdout.readline().strip() == "ready"
        watcher.follow(("victim", "watcher"))
        assert "victim" in watcher.links
        killed_at = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        assert deaths.get(timeout=2) == "victim"
        assert time.monotonic() - killed_at < 0.5
    finally:
        victim.kill()
        watcher.close()


def test_a_suspected_node_is_dead_for_one_ttl_whatever_redis_says(redis):
    client = redis_py.Redis.from_url(redis)
    key = f"msesync-test-nodes-{uuid.uuid4().hex[:8]}"
    one, two = (Membership(n, client, ttl=1.0, key=key) for n in ("n1", "n2"))
    try:
        two.refresh()
        one.refresh()
        assert one.nodes == ("n1", "n2")
        assert one.suspect("n2") and one.nodes == ("n1",)
        two.refresh()  # still alive in Redis...
        one.refresh()
        assert one.nodes == ("n1",)  # ...but its socket closed: dead until the TTL passes
        time.sleep(1.1)
        two.refresh()
        one.refresh()
        assert one.nodes == ("n1", "n2")
    finally:
        client.delete(key)
