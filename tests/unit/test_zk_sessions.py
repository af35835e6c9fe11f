"""Which ZooKeeper session holds which of our ephemeral nodes (syncapp/registries/zk_sessions)."""

from syncapp.registries import zk_sessions
from syncapp.registries.zk_sessions import SessionPool


class FakeClient:
    def __init__(self, name):
        self.name, self.closed = name, False

    def stop(self):
        pass

    def close(self):
        self.closed = True


def pool_with(monkeypatch, budget: int):
    monkeypatch.setattr(zk_sessions, "PATH_BUDGET", budget)
    main, opened = FakeClient("main"), []

    def start():
        opened.append(FakeClient(f"extra{len(opened) + 1}"))
        return opened[-1]

    return SessionPool(lambda: main, start), opened


def path(n: int) -> str:
    return f"/dubbo/x/providers/{n:06}"  # 24 bytes + 4 of overhead = 28


def test_nodes_fill_the_adapters_session_then_open_one_more_at_a_time(monkeypatch):
    pool, opened = pool_with(monkeypatch, budget=100)  # three paths a session
    names = [pool.client_for(path(n)).name for n in range(7)]
    assert names == ["main"] * 3 + ["extra1"] * 3 + ["extra2"]
    assert pool.sessions() == 3 and len(opened) == 2


def test_a_node_goes_back_to_its_session_and_a_deleted_one_frees_room(monkeypatch):
    pool, _ = pool_with(monkeypatch, budget=100)
    for n in range(4):
        pool.client_for(path(n))
    assert pool.client_for(path(3)).name == "extra1"  # re-created: the same session
    pool.forget([path(0)])
    assert pool.client_for(path(9)).name == "main"  # the room path 0 left
    assert pool.client_for(path(10)).name == "extra1"


def test_closing_the_extra_sessions_keeps_the_adapters_own_placements(monkeypatch):
    pool, opened = pool_with(monkeypatch, budget=100)
    for n in range(4):
        pool.client_for(path(n))
    pool.close_extra()
    assert opened[0].closed and pool.client_for(path(0)).name == "main"
    assert pool.client_for(path(3)).name == "extra2"  # a new session for what was extra1's
