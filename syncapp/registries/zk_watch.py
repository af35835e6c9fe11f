"""ZooKeeper change feed: watches on the paths that matter, not a whole-tree cache.

/dubbo (interfaces) and each /dubbo/<interface>/providers, /services (names) and each
/services/<name>: a children change names the services it touches. A folder that does not
exist yet is watched for its creation. A lost or suspended session is reported as
"everything changed" once the connection is back, since events may have been missed.

What is there when the watch starts is not a change: the folders found by the first listing
report only later changes (the feed's owner syncs everything once when a watch starts,
feeds.Feeds.start); a folder that appears later reports its first children, which are new.
At 10,000 services this is the difference between 10,000 sync jobs at every keeper start
and none.
"""

import logging
import queue
import threading
from collections.abc import Callable

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import NoNodeError
from kazoo.protocol.states import EventType, KeeperState
from kazoo.recipe.watchers import ChildrenWatch, DataWatch

from syncapp.registries import dubbo_url
from syncapp.registries.base import ServiceKey, error_text

log = logging.getLogger(__name__)
DUBBO_ROOT = "/dubbo"
CURATOR_ROOT = "/services"
ARM_WINDOW = 128  # watch requests in flight at once (see ServiceWatcher)


class ServiceWatcher:
    """Folder watches made of ZooKeeper's one-shot watches, armed again at each event, their
    requests sent by a thread of the watcher's own with up to ARM_WINDOW in flight: kazoo's
    ChildrenWatch and DataWatch recipes wait for each answer, one folder after another
    (10,000 interfaces took 20 s and 10 s of CPU to watch, most of a keeper's work at a
    first sync; armed this way, ~3 s and 2.7 s).

    Not from kazoo's callback thread, and never more than ARM_WINDOW at once: each request
    wakes kazoo's connection thread through a socket, and while that thread is not reading
    (reconnecting, stopping) a few hundred unread wake-ups block the sender for good."""

    def __init__(self, zk: KazooClient, on_change: Callable[[ServiceKey | None], None]):
        self.zk = zk
        self.on_change = on_change
        self.folders: dict[str, Callable[[str, set[str]], None]] = {}  # path -> its handler
        self.known: dict[str, set[str]] = {}  # folder -> children last seen
        self.silent: set[str] = set()  # folders of the first listing: first report not a change
        self.starting = {DUBBO_ROOT, CURATOR_ROOT}  # roots whose first listing is not a change
        self.interrupted = False
        self.failure = ""  # the first unexpected error of a callback: events were lost
        self._to_arm: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()  # (kind, path)
        self._in_flight = threading.BoundedSemaphore(ARM_WINDOW)
        self._closed = threading.Event()

    def start(self) -> None:
        self.zk.add_listener(self._state)
        threading.Thread(target=self._send_arms, name="zk-watch-arm", daemon=True).start()
        self.watch_folder(DUBBO_ROOT, self._interfaces)
        self.watch_folder(CURATOR_ROOT, self._curator_names)

    def close(self) -> None:
        self._closed.set()
        self.zk.remove_listener(self._state)

    def armed(self) -> bool:
        """Every folder there when the watch started has been listed with its watch on."""
        return not self.starting and not self.silent

    def _state(self, state) -> None:
        if state in (KazooState.LOST, KazooState.SUSPENDED):
            self.interrupted = True
        elif state == KazooState.CONNECTED and self.interrupted:
            self.interrupted = False
            log.info("ZooKeeper connection back: full resync")
            for path in list(self.folders):  # kazoo forgot every watch when it dropped
                self._arm(path)
            self.on_change(None)

    def watch_folder(self, path: str, on_children: Callable[[str, set[str]], None]) -> None:
        """Call on_children(path, children) on every change, from the folder's creation on."""
        self.folders[path] = on_children
        self._arm(path)

    def _arm(self, path: str, kind: str = "list") -> None:
        """List the folder's children with a watch on them ("exists": watch for its
        creation); the request goes out from the watcher's thread."""
        self._to_arm.put((kind, path))

    def _send_arms(self) -> None:
        while not self._closed.is_set():
            try:
                kind, path = self._to_arm.get(timeout=1.0)
            except queue.Empty:
                continue
            while not self._in_flight.acquire(timeout=1.0):
                if self._closed.is_set() or self.zk.client_state == KeeperState.CLOSED:
                    return  # no answer will come
            try:
                self._send_arm(kind, path)
            except Exception as exc:  # the client is closed: nothing more to watch
                self._in_flight.release()
                if not self._closed.is_set():  # else the feed would look alive, arming nothing
                    self.failure = self.failure or error_text(exc)
                return

    def _send_arm(self, kind: str, path: str) -> None:
        if kind == "list":
            pending = self.zk.get_children_async(path, watch=self._fired)
            pending.rawlink(lambda result: self._listed(path, result))
        else:
            pending = self.zk.exists_async(path, watch=self._fired)
            pending.rawlink(lambda result: self._created(path, result))

    def _fired(self, event) -> None:
        """A one-shot watch fired: arm it again (which reads what changed). A connection
        drop fires every watch with no type: _state arms them all once it is back."""
        if event.type != EventType.NONE and event.path in self.folders:
            self._arm(event.path)

    def _listed(self, path: str, result) -> None:
        self._in_flight.release()
        try:
            children = result.get_nowait()
        except NoNodeError:  # not there (yet), or deleted: watched for its creation
            self._gone(path)
            return
        except Exception:  # the connection dropped: armed again when it is back
            return
        self._guarded(self.folders[path])(path, set(children))

    def _gone(self, path: str) -> None:
        """The folder is not there: the children it had left with it (a deletion is often
        seen only here: its last child's event re-reads a folder deleted meanwhile)."""
        self.silent.discard(path)  # when it comes back, its children are new
        self.starting.discard(path)
        if self.known.get(path):
            self._guarded(self.folders[path])(path, set())
        self._arm(path, "exists")

    def _created(self, path: str, result) -> None:
        """The folder was created between its listing and its creation watch: list it."""
        self._in_flight.release()
        try:
            if result.get_nowait() is not None:
                self._arm(path)
        except Exception:  # the connection dropped: armed again when it is back
            pass

    def _guarded(self, callback):
        """The callback, its unexpected errors kept as the feed's `failure` (the event they
        interrupted is lost: the feed's owner starts a new watch, feeds.py), not only in
        kazoo's log."""

        def call(*args):
            try:
                return callback(*args)
            except Exception as exc:
                log.exception("ZooKeeper watch callback failed")
                self.failure = self.failure or error_text(exc)
                return None

        return call

    def _delta(self, path: str, children: set[str]) -> set[str]:
        before = self.known.get(path, set())
        self.known[path] = children
        if path in self.silent:  # the state at watch start
            self.silent.discard(path)
            return set()
        return before ^ children

    def _subfolders(self, path: str, children: set[str], sub: str, on_children) -> None:
        """Watch `path/<child><sub>` for each new child; the children a root had when the
        watch started are silent at first (their content is the state at watch start)."""
        first = path in self.starting
        for child in self._delta(path, children) & children:
            folder = f"{path}/{child}{sub}"
            if first:
                self.silent.add(folder)
            self.watch_folder(folder, on_children)
        self.starting.discard(path)  # after its folders are silent: else armed() too early

    def _interfaces(self, path: str, children: set[str]) -> None:
        self._subfolders(path, children, "/providers", self._providers)

    def _providers(self, path: str, children: set[str]) -> None:
        interface = dubbo_url.java_decode(path.split("/")[2])  # /dubbo/<interface>/providers
        names = set()
        for node in self._delta(path, children):
            try:
                url = dubbo_url.decode_node(node)
            except ValueError:
                continue
            names.add(dubbo_url.service_name(interface, url.version, url.group))
        for name in names:
            self.on_change(ServiceKey("", "", name))

    def _curator_names(self, path: str, children: set[str]) -> None:
        self._subfolders(path, children, "", self._curator_entries)

    def _curator_entries(self, path: str, children: set[str]) -> None:
        if self._delta(path, children):
            self.on_change(ServiceKey("", "", path.rsplit("/", 1)[1]))


class TreeWatcher:
    """Data and children watches on every persistent node under a root (kazoo 2.11 has no
    persistent recursive watch); any change anywhere calls on_change()."""

    def __init__(self, zk: KazooClient, on_change: Callable[[], None]):
        self.zk = zk
        self.on_change = on_change
        self.data_watched: set[str] = set()
        self.children_watched: set[str] = set()

    def start(self, root: str) -> None:
        self.zk.add_listener(self._state)
        self.watch(root)

    def _state(self, state) -> None:
        if state == KazooState.CONNECTED:
            self.on_change()  # events may have been missed while disconnected

    def watch(self, path: str) -> None:
        if path not in self.data_watched:
            self.data_watched.add(path)
            DataWatch(self.zk, path, lambda data, stat, event: self._on_data(path, stat, event))

    def _on_data(self, path: str, stat, event) -> None:
        if event is not None:  # None on the first call, which only reports the present state
            self.on_change()
        if stat is None:
            self.children_watched.discard(path)  # its ChildrenWatch ended with the node
        elif not stat.ephemeralOwner and path not in self.children_watched:
            self.children_watched.add(path)
            ChildrenWatch(self.zk, path, lambda kids: self._on_children(path, kids))

    def _on_children(self, path: str, kids: list[str]) -> None:
        for kid in kids:
            self.watch(f"{path.rstrip('/')}/{kid}")
        self.on_change()


def watch_tree(zk: KazooClient, root: str, on_change: Callable[[], None]) -> None:
    TreeWatcher(zk, on_change).start(root)
