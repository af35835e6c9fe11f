"""Change feeds: sources that can push (ZooKeeper watches...) wake the sync of the one
service that changed, instead of waiting for the next scan.

`Feeds.step()` is one iteration: start or stop watches to match the active tasks, then
queue a `sync_service` job for each service that changed since the last step (changes that
arrive together are coalesced). Each node's keeper (syncapp/keeper.py) loops over it.
"""

import copy
import logging
import threading
import time

from celery import current_app
from django.utils import timezone

from syncapp import coalesce, patterns
from syncapp.config_jobs import config_tasks
from syncapp.engine.configs import config_root
from syncapp.jobs import active_tasks
from syncapp.models import ServiceSync, SyncTask, outcome
from syncapp.registries import registry_class
from syncapp.registries.base import INTERNAL, ServiceKey
from syncapp.ways import ways_of

log = logging.getLogger(__name__)
EVERYTHING = None
CHANGES_QUEUE = "changes"  # consumed by every worker next to the default queue
CONFIGS = "configs"  # the "way" of a configuration task's watch
FEED_STAMP_EVERY = 2.0  # seconds; scans trust a stamp for jobs.FEED_TRUSTED_FOR (8 s)
CONFIGS_BACK = "configs-back"  # a two-way configuration task's watch of its destination
MAX_CONFIG_KEYS = 200  # more changed configs at once: one pass over the whole task
FEED_START_WAIT = 60.0  # seconds a new service feed may wait for its task's first sync


class Feeds:
    def __init__(self, send_task=None, owns=None):
        self._send_task = send_task or current_app.send_task
        # Which ways this node watches; the others are watched by their owners (keeper.py).
        self.owns = owns or (lambda way: True)
        self.watches: dict[
            tuple[int, bool], tuple[object, object]
        ] = {}  # way -> (version, adapter)
        self.changed: set[tuple[int, bool, ServiceKey | None]] = set()
        self.lock = threading.Lock()
        self._stamped_at = float("-inf")
        self.arming: set[tuple[int, bool]] = set()  # service ways whose feed is not ready yet
        self.waiting: dict[tuple[int, bool], float] = {}  # way -> since when (may_start)

    def step(self, reconcile: bool = True) -> int:
        """Match watches to tasks, then queue jobs for what changed; returns jobs queued."""
        if reconcile:
            self.reconcile_watches()
        self.note_ready_feeds()
        if time.monotonic() - self._stamped_at >= FEED_STAMP_EVERY:
            self._stamped_at = time.monotonic()
            coalesce.stamp_live_feeds(self.live_service_feeds())
        with self.lock:
            changed, self.changed = self.changed, set()
        return self.dispatch_all(changed)

    # --- watches ----------------------------------------------------------------

    def reconcile_watches(self) -> None:
        wanted = {}
        for task in active_tasks():
            for way in ways_of(task):  # a way's feed watches its source
                wanted[way.key] = (way.source.updated_at, task.updated_at, way.source)
        for task in config_tasks():
            wanted[(task.pk, CONFIGS)] = (task.source.updated_at, task.updated_at, task.source)
            if task.mode == SyncTask.BIDIRECTIONAL:  # both sides change
                # watched in the namespaces the task syncs: the source's, mirrored there
                dest = copy.copy(task.destination)
                dest.namespaces = task.source.namespaces
                wanted[(task.pk, CONFIGS_BACK)] = (dest.updated_at, task.updated_at, dest)
        wanted = {way: value for way, value in wanted.items() if self.owns(way)}
        for way in list(self.watches):
            if way not in wanted or self.watches[way][0] != wanted[way][:2]:
                self.stop(way)
            elif failure := self.watches[way][1].feed_failure():
                self.stop_failed(way, failure)
        for way, (source_version, task_version, source) in wanted.items():
            if way not in self.watches and self.may_start(way):
                self.start(way, (source_version, task_version), source)
        for way in self.waiting.keys() - wanted.keys():
            del self.waiting[way]

    def may_start(self, way) -> bool:
        """A service feed waits while its task's first sync is on (coalesce.first_sync_on),
        FEED_START_WAIT at most: watching 10,000 ZooKeeper folders costs ~3 s of this
        process's CPU, which the holds of those first copies need. What changes meanwhile is
        found by the listing that follows every feed's start (note_ready_feeds)."""
        if not isinstance(way[1], bool):
            return True
        since = self.waiting.setdefault(way, time.monotonic())
        if time.monotonic() - since < FEED_START_WAIT and coalesce.first_sync_on(way[0]):
            return False
        del self.waiting[way]
        return True

    def live_service_feeds(self) -> list[tuple[int, bool]]:
        """Service ways whose source feed is live and misses nothing (scans may trust it)."""
        return [
            way
            for way, (_, adapter) in self.watches.items()
            if isinstance(way[1], bool) and adapter.feed_alive()
        ]

    def start(self, way, version, source) -> None:
        adapter = registry_class(source.cluster_type)(source.config())
        try:
            pushing = self._watch(adapter, way)
        except Exception as exc:  # an unreachable source: the scan job still covers it
            log.warning("cannot watch %s: %s", source, exc)
            adapter.close()
            return
        if pushing:
            log.info("watching %s for task %s", source, way[0])
        self.watches[way] = (version, adapter)
        if isinstance(way[1], bool):  # what changed before it began: see note_ready_feeds
            self.arming.add(way)

    def note_ready_feeds(self) -> None:
        """A service feed that now watches everything (feed_ready) reported nothing of what
        changed before: the task's next scan lists its source to find that. Not before, or
        it could read a folder whose watch is not armed yet and miss a change between the
        two (ZooKeeper takes seconds to arm 10,000 watches)."""
        ready = [way for way in self.arming if self.watches[way][1].feed_ready()]
        self.arming.difference_update(ready)
        if ready:
            coalesce.events_missed(sorted({task_id for task_id, _ in ready}))

    def _watch(self, adapter, way) -> bool:
        if way[1] in (CONFIGS, CONFIGS_BACK):
            pattern = SyncTask.objects.get(pk=way[0]).service_match_pattern
            # Nacos names the changed config; ZooKeeper calls with none (the whole tree).
            return adapter.watch_configs(config_root(pattern), lambda key=None: self.note(way, key))
        return adapter.watch(lambda key: self.note(way, key))

    def stop_failed(self, way, failure: str) -> None:
        """A feed an unexpected error stopped: closed here, started again by the caller, and
        its task re-read whole at once (the feed lost track); the task says so until then."""
        log.warning("change feed of task %s (%s) stopped: %s; restarting", *way, failure)
        note = f"change feed stopped ({failure}); restarted"
        # Feeds retry a registry's errors themselves: only a bug of ours stops one.
        SyncTask.objects.filter(pk=way[0]).update(**outcome(note, timezone.now(), kind=INTERNAL))
        self.stop(way)
        self.note(way, EVERYTHING)

    def stop(self, way) -> None:
        self.arming.discard(way)
        _, adapter = self.watches.pop(way)
        adapter.close()

    def close(self) -> None:
        for way in list(self.watches):
            self.stop(way)

    def note(self, way: tuple[int, bool], key: ServiceKey | None) -> None:
        with self.lock:
            self.changed.add((*way, key))

    # --- dispatch ---------------------------------------------------------------

    def send(self, name: str, args: list) -> None:
        # Their own queue, so a pushed change does not wait behind a scan's whole backlog.
        self._send_task(name, args=args, queue=CHANGES_QUEUE)

    def dispatch_all(self, changed) -> int:
        """Services one job each; a config task's changed configs in one job."""
        configs: dict[int, set] = {}
        queued = 0
        for task_id, way, key in changed:
            if way in (CONFIGS, CONFIGS_BACK):
                configs.setdefault(task_id, set()).add(key)
            else:
                queued += self.dispatch(task_id, way, key)
        for task_id, keys in configs.items():
            self.dispatch_configs(task_id, keys)
        return queued + len(configs)

    def dispatch_configs(self, task_id: int, keys: set) -> None:
        """The pass of these configs only (Nacos), or of the whole task (a key None: the feed
        lost track, or a ZooKeeper tree; or too many to name)."""
        if None in keys or len(keys) > MAX_CONFIG_KEYS:
            self.send("workers.tasks.sync_configs", [task_id])
            return
        named = [[k.namespace, k.group, k.data_id] for k in sorted(keys)]
        self.send("workers.tasks.sync_configs", [task_id, named])

    def dispatch(self, task_id: int, reverse, key: ServiceKey | None) -> int:
        if reverse in (CONFIGS, CONFIGS_BACK):
            self.dispatch_configs(task_id, {key})
            return 1
        if key is EVERYTHING:  # the feed lost track: every service read again
            coalesce.events_missed([task_id])
            if coalesce.claim_scans([task_id]):
                self.send("workers.tasks.scan_task", [task_id])
            return 1
        row_id = row_for(task_id, reverse, key)
        if row_id is None:
            return 0
        if coalesce.claim_rows([row_id], coalesce.CHANGE_QUEUE):  # else its job is waiting
            self.send("workers.tasks.sync_service", [row_id])
        return 1


def row_for(task_id: int, reverse: bool, key: ServiceKey) -> int | None:
    """The row of a changed service, created when the task takes new services."""
    task = SyncTask.objects.filter(pk=task_id).first()
    if task is None or not patterns.fullmatch(task.service_match_pattern, key.name):
        return None
    ident = {
        "task": task,
        "reverse": reverse,
        "namespace": key.namespace,
        "group": key.group,
        "service": key.name,
    }
    if task.auto_scan:
        row, _ = ServiceSync.objects.get_or_create(**ident)
        return row.pk
    return ServiceSync.objects.filter(**ident).values_list("pk", flat=True).first()
