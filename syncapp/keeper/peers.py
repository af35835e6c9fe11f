"""Fast death detection: every keeper holds a TCP socket to every other keeper.

Membership in Redis expires a silent node after MSESYNC_MEMBER_TTL (3 s), but a Nacos
server unlists a dead holder's copies ~0.6 s after it dies. When a keeper process dies, even
by kill -9, its kernel closes its sockets at once, so the peers read end-of-file within
milliseconds and take over its share while Redis still lists it. A peer that merely cannot
be reached is not suspected: only a connection that was up and then ended is evidence.

Each keeper listens on MSESYNC_PEER_ADDRESS (host:port, port 0 = any; 0.0.0.0 = every
interface, published as this host's IP) and publishes the address in Redis
(`msesync:peers`); the others connect to it.
"""

import contextlib
import logging
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)
PEERS_KEY = "msesync:peers"
CONNECT_TIMEOUT = 1.0


def reachable(host: str) -> str:
    """The address others should dial: a wildcard bind is published as this host's IP."""
    if host in ("", "0.0.0.0", "::"):
        return socket.gethostbyname(socket.gethostname())
    return host


class Peers:
    def __init__(self, node_id: str, redis, bind: str, on_death: Callable[[str], None]):
        self.node_id = node_id
        self.redis = redis
        self.on_death = on_death
        self.links: dict[str, socket.socket] = {}  # our sockets to the others
        self.accepted: list[socket.socket] = []  # the others' sockets to us
        self._lock = threading.Lock()
        self._closed = threading.Event()
        host, _, port = bind.rpartition(":")
        self.server = socket.create_server((host or "127.0.0.1", int(port or 0)))
        self.address = f"{reachable(host)}:{self.server.getsockname()[1]}"
        self._spawn(self._accept, "peer-listener")

    def _spawn(self, target, name, *args) -> None:
        threading.Thread(target=target, args=args, name=name, daemon=True).start()

    def publish(self) -> None:
        """Tell the others where to connect (called with each membership refresh)."""
        with contextlib.suppress(Exception):
            self.redis.hset(PEERS_KEY, self.node_id, self.address)

    def follow(self, nodes: tuple[str, ...]) -> None:
        """Connect to every live node we have no socket to; forget nodes that left."""
        others = [n for n in nodes if n != self.node_id]
        missing = [n for n in others if n not in self.links]
        if missing:
            try:
                addresses = self.redis.hmget(PEERS_KEY, missing)
            except Exception:  # Redis restarting: membership copes; try at the next refresh
                return
            for node, address in zip(missing, addresses, strict=False):
                if address:
                    self._connect(node, address.decode() if isinstance(address, bytes) else address)
        for node in [n for n in list(self.links) if n not in others]:
            self._drop(node)

    def _connect(self, node: str, address: str) -> None:
        host, _, port = address.rpartition(":")
        try:
            sock = socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT)
        except OSError:
            return  # not up (yet): no evidence either way
        sock.settimeout(None)
        with self._lock:
            self.links[node] = sock
        self._spawn(self._watch, f"peer-{node}", node, sock)

    def _watch(self, node: str, sock: socket.socket) -> None:
        """Block until the peer's end closes: its process is gone (or it said goodbye)."""
        with contextlib.suppress(OSError):
            while sock.recv(64):
                pass
        with self._lock:
            ours = self.links.get(node) is sock
            if ours:
                del self.links[node]
        sock.close()
        if ours and not self._closed.is_set():
            log.info("peer %s closed its connection: taking over its share now", node)
            self.on_death(node)

    def _drop(self, node: str) -> None:
        with self._lock:
            sock = self.links.pop(node, None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        """Hold every incoming socket open until we close (the peers watch it)."""
        while not self._closed.is_set():
            try:
                sock, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(sock)

    def close(self) -> None:
        """Close everything: the peers see us leave at once."""
        self._closed.set()
        with contextlib.suppress(Exception):
            self.redis.hdel(PEERS_KEY, self.node_id)
        for node in list(self.links):
            self._drop(node)
        for sock in self.accepted:
            sock.close()
        self.server.close()
