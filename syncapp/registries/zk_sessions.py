"""Our ephemeral ZooKeeper nodes, spread over as many sessions as their paths need.

When a session ends (closed, or expired when its process died), ZooKeeper logs one
transaction that lists every ephemeral node the session held, and a server replays its log at
start. It refuses a record longer than jute.maxbuffer (1 MB by default, and operators rarely
change it): a session that held 30,000 copies of Dubbo providers left a 5.7 MB record, and the
server could not start again until its log was removed by hand. So one session holds at most
PATH_BUDGET bytes of node paths, half that limit; the next node goes to the next session,
opened only when needed (a few thousand copies fit in the adapter's own session).

Which session holds a node is remembered for as long as the node is ours: re-creating it (the
keeper's heartbeat after an expiry) goes to the same session, deleting it frees its bytes.
The pool knows only what this process created; each process caps its own sessions.
"""

import threading
from collections.abc import Callable

from kazoo.client import KazooClient

PATH_BUDGET = 512 * 1024  # bytes of node paths one session may hold (jute.maxbuffer / 2)
ENTRY_OVERHEAD = 4  # the record's length prefix of each path
MAIN = 0  # the adapter's own session: reads and watches, and the first nodes


class SessionPool:
    """`main()` gives the adapter's own client (started on demand, replaced when stuck);
    `start()` opens another session for nodes that do not fit in the ones open."""

    def __init__(self, main: Callable[[], KazooClient], start: Callable[[], KazooClient]):
        self._main = main
        self._start = start
        self._lock = threading.Lock()
        self._used: list[int] = [0]  # path bytes per session; index MAIN is the adapter's
        self._extra: dict[int, KazooClient] = {}
        self._holder: dict[str, int] = {}

    def client_for(self, path: str) -> KazooClient:
        """The session to create `path` in (the one that held it before, if any)."""
        with self._lock:
            index = self._holder.get(path)
            if index is None:
                index = self._place(path)
            if index != MAIN:
                return self._opened(index)
        return self._main()  # outside our lock: the adapter takes its own to start it

    def forget(self, paths: list[str]) -> None:
        """These nodes are deleted: their bytes are free for new ones."""
        with self._lock:
            for path in paths:
                index = self._holder.pop(path, None)
                if index is not None:
                    self._used[index] -= _cost(path)

    def sessions(self) -> int:
        """Sessions holding or about to hold our nodes (the adapter's own included)."""
        with self._lock:
            return len(self._used)

    def close_extra(self) -> None:
        """End the other sessions (their nodes go with them, as the adapter's do)."""
        with self._lock:
            clients, self._extra = list(self._extra.values()), {}
            self._used = [self._used[MAIN]] + [0] * (len(self._used) - 1)
            self._holder = {p: i for p, i in self._holder.items() if i == MAIN}
        for client in clients:
            client.stop()
            client.close()

    def _place(self, path: str) -> int:
        cost = _cost(path)
        index = next((i for i, used in enumerate(self._used) if used + cost <= PATH_BUDGET), None)
        if index is None:
            self._used.append(0)
            index = len(self._used) - 1
        self._used[index] += cost
        self._holder[path] = index
        return index

    def _opened(self, index: int) -> KazooClient:
        client = self._extra.get(index)
        if client is None:
            client = self._extra[index] = self._start()
        return client


def _cost(path: str) -> int:
    return len(path.encode()) + ENTRY_OVERHEAD
