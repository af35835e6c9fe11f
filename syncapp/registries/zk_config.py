"""ZooKeeper configuration: persistent znodes (data and children) under a root.

Ephemeral nodes are services, never configuration: they and their subtrees are skipped.
ZooKeeper's own /zookeeper tree is never read or written.
"""

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, NoNodeError, NotEmptyError

SYSTEM_ROOT = "/zookeeper"


def _join(parent: str, child: str) -> str:
    return f"{parent.rstrip('/')}/{child}"


def read_tree(zk: KazooClient, root: str, timeout: float) -> dict[str, bytes]:
    """Every persistent node at or under root -> its data; {} when root does not exist."""
    found: dict[str, bytes] = {}
    level = [root]
    while level:
        replies = [(p, zk.get_async(p), zk.get_children_async(p)) for p in level]
        level = []
        for path, data_reply, kids_reply in replies:
            try:
                data, stat = data_reply.get(timeout=timeout)
                kids = kids_reply.get(timeout=timeout)
            except NoNodeError:  # deleted while we walked: not there
                continue
            if stat.ephemeralOwner or path.startswith(SYSTEM_ROOT):
                continue
            found[path] = data
            level += [_join(path, k) for k in kids]
    return found


def put(zk: KazooClient, path: str, data: bytes) -> None:
    try:
        zk.create(path, data, makepath=True)
    except NodeExistsError:  # there already (or another worker just made it): overwrite
        zk.set(path, data)


def delete(zk: KazooClient, path: str) -> bool:
    """Delete one node; False when it still has children we do not own (left in place)."""
    try:
        zk.delete(path)
    except NoNodeError:
        pass
    except NotEmptyError:
        return False
    return True
