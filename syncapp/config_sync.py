"""The domain side of Nacos Config tasks: one pass over a task's configs, recorded per config.

A pass lists both sides' configs of the source cluster's namespaces (content MD5s only),
keeps those whose `group/dataId` matches the task's pattern, decides each one with
syncapp/engine/config_items.py against the ConfigSync row (what msesync wrote), reads and
writes only the configs that differ, and records the outcome on the rows. A change feed's
pass reads only the configs it named. Passes of one task never overlap (config_jobs.py's pass
lease), so one writer at a time whatever the number of nodes.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q, Sum

from syncapp import patterns
from syncapp.engine import config_items as engine
from syncapp.models import ConfigSync, SyncTask
from syncapp.registries.base import OTHER, ConfigKey, RegistryError, error_kind

log = logging.getLogger(__name__)
WRITERS = 16  # registry calls of one pass in parallel
ACTING = (engine.COPY, engine.COPY_BACK, engine.DELETE_DEST, engine.DELETE_SOURCE)


@dataclass
class Outcome:
    in_step: int = 0
    writes: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_kinds: list[str] = field(default_factory=list)  # of `errors`, in their order

    def note(self) -> str:
        """The task's last_error: errors first, then conflicts (the task page lists them)."""
        lines = self.errors[:20]
        if self.conflicts:
            lines.append(f"{len(self.conflicts)} config conflicts, e.g. {self.conflicts[0]}")
        return "\n".join(lines)

    def kind(self) -> str:
        """The note's kind: its first error's; conflicts alone are "other" (no registry
        failed: both sides changed, for a person to decide)."""
        if self.error_kinds:
            return self.error_kinds[0]
        return OTHER if self.conflicts else ""


def matching(registry, namespaces, pattern: str) -> dict[ConfigKey, str]:
    """Every config of these namespaces whose group/dataId matches -> its content MD5."""
    regex = patterns.compile(pattern)
    found = {}
    for namespace in namespaces:
        listed = registry.list_config_items(namespace)
        found.update({k: m for k, m in listed.items() if regex.fullmatch(k.name)})
    return found


def named(registry, keys: list[ConfigKey]) -> dict[ConfigKey, str]:
    """The content MD5 of each of these configs that exists (read one by one, in parallel)."""
    with ThreadPoolExecutor(min(WRITERS, len(keys)) or 1) as pool:
        items = list(pool.map(registry.read_config_item, keys))
    return {item.key: item.md5 for item in items if item is not None}


def sides(task: SyncTask, source, dest, keys) -> tuple[dict, dict]:
    """Content MD5s at source and destination: of every matching config (namespaces created
    where missing first), or of the named ones only."""
    if keys is not None:
        return named(source, keys), named(dest, keys)
    namespaces = source.namespaces()
    for namespace in namespaces:
        dest.ensure_namespace(namespace)
        if task.mode == SyncTask.BIDIRECTIONAL:
            source.ensure_namespace(namespace)
    pattern = task.service_match_pattern
    return matching(source, namespaces, pattern), matching(dest, namespaces, pattern)


def sync_items(task: SyncTask, source, dest, keys: list[ConfigKey] | None = None) -> Outcome:
    """One pass over every config of the task, or only over `keys` (those a change feed
    named); raises RegistryError when a side cannot be read (nothing is decided)."""
    two_way = task.mode == SyncTask.BIDIRECTIONAL
    if keys is not None:
        regex = patterns.compile(task.service_match_pattern)
        namespaces = source.namespaces()
        keys = [k for k in keys if k.namespace in namespaces and regex.fullmatch(k.name)]
        if not keys:
            return Outcome()
    a, b = sides(task, source, dest, keys)
    rows = ConfigSync.objects.filter(task=task)
    if keys is not None:
        rows = rows.filter(data_id__in={k.data_id for k in keys})
    rows = {
        key: r
        for r in rows
        if (key := ConfigKey(r.namespace, r.group, r.data_id)) and (keys is None or key in keys)
    }
    plan = []
    for key in sorted(a.keys() | b.keys() | rows.keys()):
        row = rows.get(key)
        seen = engine.Seen(row.md5, row.written) if row and row.md5 else None
        decision = engine.decide(a.get(key), b.get(key), seen, two_way, task.overwrite_native)
        plan.append((key, row, seen, decision))
    # Registry calls in parallel (a first copy of 10,000 configs), rows recorded in one go.
    acting = [p for p in plan if p[3].action in ACTING]
    done = {}
    if acting:
        with ThreadPoolExecutor(min(WRITERS, len(acting))) as pool:
            results = pool.map(lambda p: _attempt(p[3], p[0], source, dest, a, b), acting)
            done = {p[0]: r for p, r in zip(acting, results, strict=True)}
    outcome = Outcome()
    with transaction.atomic():
        for key, row, seen, decision in plan:
            _record(task, key, row, seen, decision, done.get(key), a, b, outcome)
    return outcome


def _attempt(decision, key, source, dest, a, b):
    """carry_out's result, or the RegistryError it raised."""
    try:
        return carry_out(decision, key, source, dest, a, b)
    except RegistryError as exc:
        return exc


def _record(task, key, row, seen, decision, result, a, b, outcome: Outcome) -> None:
    if isinstance(result, RegistryError):
        outcome.errors.append(f"{key}: {result}")
        outcome.error_kinds.append(error_kind(result))
        record_error(task, key, row, str(result))
        return
    written = result
    if decision.action == engine.CONFLICT:
        outcome.conflicts.append(f"{key}: {decision.reason}")
    elif decision.action == engine.IN_STEP:
        outcome.in_step += 1
    wrote = written is not None or decision.action in (engine.DELETE_DEST, engine.DELETE_SOURCE)
    outcome.writes += wrote
    kept = engine.after(decision, a.get(key), b.get(key), seen, written or "")
    remember(task, key, row, decision, kept, wrote)


def carry_out(decision, key: ConfigKey, source, dest, a: dict, b: dict) -> str | None:
    """Do what was decided; returns the MD5 of the content written, if a copy was made."""
    action = decision.action
    if action in (engine.COPY, engine.COPY_BACK):
        origin, target, there = (source, dest, b) if action == engine.COPY else (dest, source, a)
        item = origin.read_config_item(key)
        if item is None:  # deleted since the listing: the next pass decides again
            raise RegistryError("gone from the side it was to be copied from")
        target.write_config_item(item, replaces_md5=there.get(key) or "")
        log.info("config %s copied %s", key, "to the destination" if target is dest else "back")
        return item.md5
    if action == engine.DELETE_DEST:
        dest.delete_config_item(key)
    elif action == engine.DELETE_SOURCE:
        source.delete_config_item(key)
    return None


def remember(task, key: ConfigKey, row, decision, seen, wrote: bool) -> None:
    """Store what the pass left behind (only what changed: a quiet pass writes nothing)."""
    if seen is None:
        if row is not None:
            row.delete()
        return
    conflict = decision.reason if decision.action == engine.CONFLICT else ""
    values = {"md5": seen.md5, "written": seen.written, "conflict": conflict, "last_error": ""}
    if row is None:
        ConfigSync.objects.create(
            task=task,
            namespace=key.namespace,
            group=key.group,
            data_id=key.data_id,
            writes=int(wrote),
            **values,
        )
        return
    if wrote or any(getattr(row, k) != v for k, v in values.items()):
        for name, value in values.items():
            setattr(row, name, value)
        row.writes += int(wrote)
        row.save()


def record_error(task, key: ConfigKey, row, error: str) -> None:
    if row is None:
        ConfigSync.objects.create(
            task=task,
            namespace=key.namespace,
            group=key.group,
            data_id=key.data_id,
            last_error=error[:2000],
        )
    else:
        ConfigSync.objects.filter(pk=row.pk).update(last_error=error[:2000])


def config_stats(task_ids=None) -> dict[int, dict]:
    """Per Config task: configs in step, in conflict, and writes made (one query)."""
    rows = (
        ConfigSync.objects.all()
        if task_ids is None
        else ConfigSync.objects.filter(task_id__in=task_ids)
    )
    counted = rows.values("task_id").annotate(
        in_step=Count("id", filter=Q(conflict="", last_error="")),
        conflicts=Count("id", filter=~Q(conflict="")),
        writes=Sum("writes"),
    )
    return {r["task_id"]: r for r in counted}
