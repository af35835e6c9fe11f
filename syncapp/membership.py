"""Who is alive, and which of them owns a piece of long-lived work.

Each keeper process (`manage.py run_keeper`, one per node) refreshes its entry in a Redis
sorted set every second; an entry whose expiry passed is a dead node. Work that outlives a
job (a change feed's watch, the renewal of what we registered) goes to the owner chosen by
rendezvous hashing over the live nodes: every node computes the same owner without talking
to the others, and when a node dies only its own share moves.

Without Redis (standalone mode) there is one node and it owns everything. When Redis cannot
be reached, a node also behaves as if it were alone: renewing a lease twice is harmless,
leaving one unrenewed drops an instance.
"""

import contextlib
import hashlib
import json
import logging
import time

log = logging.getLogger(__name__)
MEMBERS_KEY = "msesync:nodes"
STATUS_KEY = "msesync:keeper:{}"


def owner_of(item: str, nodes: tuple[str, ...]) -> str:
    """Rendezvous (highest random weight) hashing: the node that scores highest wins."""
    return max(nodes, key=lambda node: hashlib.sha1(f"{node}|{item}".encode()).digest())


class Membership:
    def __init__(self, node_id: str, redis=None, ttl: float = 3.0, key: str = MEMBERS_KEY):
        self.node_id = node_id
        self.key = key
        self.redis = redis
        self.ttl = ttl
        self.nodes: tuple[str, ...] = (node_id,)
        self.reachable = redis is not None
        # Nodes seen to die (their keeper's socket closed) before Redis expires them:
        # node -> monotonic time until which they count as dead whatever Redis says.
        self.suspects: dict[str, float] = {}

    def refresh(self) -> bool:
        """Renew our entry and re-read the live nodes; True when the set changed."""
        nodes = self._live_nodes() if self.redis is not None else (self.node_id,)
        now = time.monotonic()
        self.suspects = {n: until for n, until in self.suspects.items() if until > now}
        nodes = tuple(n for n in nodes if n not in self.suspects)
        changed, self.nodes = nodes != self.nodes, nodes
        if changed:
            log.info("live nodes: %s", ", ".join(nodes))
        return changed

    def _live_nodes(self) -> tuple[str, ...]:
        now = time.time()
        try:
            pipe = self.redis.pipeline()
            pipe.zadd(self.key, {self.node_id: now + self.ttl})
            pipe.zremrangebyscore(self.key, "-inf", now)
            pipe.zrange(self.key, 0, -1)
            members = pipe.execute()[-1]
        except Exception as exc:  # redis.RedisError, OSError: Redis restarting
            if self.reachable:
                log.warning("Redis unreachable (%s): renewing everything until it is back", exc)
            self.reachable = False
            return (self.node_id,)
        self.reachable = True
        return tuple(sorted(_names(members)))

    def peek(self) -> tuple[str, ...]:
        """The live nodes plus us, without announcing us (ourselves only if Redis is down)."""
        if self.redis is None:
            return (self.node_id,)
        try:
            members = self.redis.zrangebyscore(self.key, time.time(), "+inf")
        except Exception:  # redis.RedisError, OSError: as if alone, as refresh() would
            return (self.node_id,)
        return tuple(sorted(set(_names(members)) | {self.node_id}))

    def suspect(self, node: str) -> bool:
        """Count a node as dead now, for one TTL (by then Redis has expired it, if dead);
        True when that changed the live nodes."""
        self.suspects[node] = time.monotonic() + self.ttl
        nodes = tuple(n for n in self.nodes if n != node)
        changed, self.nodes = nodes != self.nodes, nodes
        if changed:
            log.info("node %s is gone; live nodes: %s", node, ", ".join(nodes))
        return changed

    def owns(self, item) -> bool:
        return owner_of(str(item), self.nodes) == self.node_id

    def leave(self) -> None:
        """Give our share away at once on a clean stop, instead of after the TTL."""
        if self.redis is not None:
            with contextlib.suppress(Exception):  # best effort: the entry expires anyway
                self.redis.zrem(self.key, self.node_id)

    def publish(self, status: dict) -> None:
        """What this node holds, for operators and the failover harness."""
        if self.redis is None or not self.reachable:
            return
        with contextlib.suppress(Exception):  # a status line is not worth failing over
            self.redis.set(
                STATUS_KEY.format(self.node_id), json.dumps(status, sort_keys=True), ex=30
            )


def _names(members) -> list[str]:
    """Node names as Redis returns them (bytes, or text with decode_responses)."""
    return [m.decode() if isinstance(m, bytes) else m for m in members]
