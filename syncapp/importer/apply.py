"""Turn a validated spec into database rows: diff first, then apply in one transaction."""

from dataclasses import dataclass, field

import yaml
from django.db import transaction

from syncapp import validators
from syncapp.importer.parse import (
    ClusterSpec,
    ConfigError,
    ConfigSpec,
    Problem,
    TaskSpec,
)
from syncapp.importer.rules import CLUSTER_NAMES, TASK_NAMES
from syncapp.models import Cluster, SyncTask
from syncapp.ways import where_copies_go


@dataclass
class Change:
    action: str  # create | update | unchanged
    kind: str  # cluster | task
    name: str
    fields: dict = field(default_factory=dict)  # model field name -> (old, new)
    note: str = ""  # a created or updated task's: where its copies land (ways.where_copies_go)

    def __str__(self):
        """One line in the file's terms: YAML field names and values, secrets as ***."""
        details = [self.fields_text()] if self.action == "update" else []
        details += [self.note] if self.note else []
        head = f"{self.action} {self.kind} {self.name}"
        return f"{head}: {'; '.join(details)}" if details else head

    def fields_text(self) -> str:
        return ", ".join(f"{name}: {old} -> {new}" for name, old, new in self.shown_fields())

    def shown_fields(self) -> list[tuple[str, str, str]]:
        """(YAML field, old, new) of each field an update changes, as the file writes them."""
        return [
            (yaml_name(self.kind, k), _show(k, old), _show(k, new))
            for k, (old, new) in self.fields.items()
        ]


def yaml_name(kind: str, model_field: str) -> str:
    """A model field's name in the YAML (`cluster` or `task` fields)."""
    return (CLUSTER_NAMES if kind == "cluster" else TASK_NAMES).get(model_field, model_field)


def shown(kind: str, model_field: str, value) -> tuple[str, str]:
    """(YAML field, value as the file writes it): what a person reads of one value."""
    return yaml_name(kind, model_field), _show(model_field, value)


def _show(name: str, value) -> str:
    return "***" if name in Cluster.SECRET_FIELDS and value else yaml_value(value)


def yaml_value(value) -> str:
    """A value as a YAML file writes it: true, NACOS, [a, b], '' (an empty string)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=float("inf"))
    return text.removesuffix("\n...\n").rstrip("\n")


def cluster_values(spec: ClusterSpec) -> dict:
    return {
        "cluster_type": spec.clusterType,
        "connect_keys": list(spec.connectKeyList),
        "namespaces": spec.namespace,
        "user_name": spec.userName,
        "password": spec.password,
        "ak": spec.ak,
        "sk": spec.sk,
    }


def task_values(spec: TaskSpec) -> dict:
    return {
        "mode": spec.mode,
        "service_match_pattern": spec.serviceMatchPattern,
        "auto_scan": spec.autoScanAndAddService,
        "keep_case": spec.keepServiceNameCase,
        "overwrite_native": spec.overwriteNativeConfigs,
    }


def _diff_row(kind, name, row, values) -> Change:
    if row is None:
        return Change("create", kind, name)
    changed = {k: (getattr(row, k), v) for k, v in values.items() if getattr(row, k) != v}
    return Change("update" if changed else "unchanged", kind, name, changed)


def check_references(spec: ConfigSpec) -> None:
    """Tasks must name clusters of the file or the database, two different ones, and
    kinds that can do what the task asks."""
    kinds = dict(
        Cluster.objects.filter(cluster_name__in=_task_cluster_names(spec)).values_list(
            "cluster_name", "cluster_type"
        )
    )
    kinds.update({c.clusterName: c.clusterType for c in spec.clusters})
    problems = []
    for i, task in enumerate(spec.tasks):
        for role in ("source", "destination"):
            if getattr(task, role) not in kinds:
                name = getattr(task, role)
                problems.append(
                    Problem(task.line, f"tasks[{i}].{role}", f"unknown cluster {name!r}")
                )
        if task.source == task.destination:
            problems.append(
                Problem(task.line, f"tasks[{i}].destination", "must differ from source")
            )
        problems += config_task_problems(task, i, kinds)
    if problems:
        raise ConfigError(problems)


def config_task_problems(task: TaskSpec, index: int, kinds: dict[str, str]) -> list[Problem]:
    """The rules that need the kinds at both ends (syncapp/validators.py, as SyncTask.clean)."""
    found = validators.task_problems(
        task.type, task.mode, kinds.get(task.source, ""), kinds.get(task.destination, "")
    )
    return [
        Problem(task.line, f"tasks[{index}].{name}", message) for name, message in found.items()
    ]


def _task_cluster_names(spec: ConfigSpec) -> set[str]:
    return {n for t in spec.tasks for n in (t.source, t.destination)}


def diff_config(spec: ConfigSpec) -> list[Change]:
    """What importing the spec would change, object by object."""
    check_references(spec)
    clusters = Cluster.objects.in_bulk(
        [c.clusterName for c in spec.clusters], field_name="cluster_name"
    )
    changes = [
        _diff_row("cluster", c.clusterName, clusters.get(c.clusterName), cluster_values(c))
        for c in spec.clusters
    ]
    ends = clusters_after(spec)
    return changes + [_diff_task(t, ends) for t in spec.tasks]


def _diff_task(t: TaskSpec, ends: dict[str, Cluster]) -> Change:
    row = SyncTask.objects.filter(
        source__cluster_name=t.source,
        destination__cluster_name=t.destination,
        sync_type=t.type,
    ).first()
    change = _diff_row("task", _task_name(t), row, task_values(t))
    if change.action != "unchanged":  # the task as the import leaves it says where
        change.note = where_copies_go(_task_after(t, ends))
    return change


def clusters_after(spec: ConfigSpec) -> dict[str, Cluster]:
    """The tasks' clusters as the import leaves them (unsaved rows for the file's own)."""
    ends = Cluster.objects.in_bulk(list(_task_cluster_names(spec)), field_name="cluster_name")
    ends.update(
        {
            c.clusterName: Cluster(cluster_name=c.clusterName, **cluster_values(c))
            for c in spec.clusters
        }
    )
    return ends


def _task_after(t: TaskSpec, ends: dict[str, Cluster]) -> SyncTask:
    return SyncTask(
        source=ends[t.source], destination=ends[t.destination], sync_type=t.type, mode=t.mode
    )


def _task_name(t: TaskSpec) -> str:
    return f"{t.source} -> {t.destination} ({t.type})"


@transaction.atomic
def apply_config(spec: ConfigSpec) -> list[Change]:
    """Make the database hold every object exactly as the spec says; all or nothing."""
    changes = diff_config(spec)
    cluster_changes, task_changes = (
        changes[: len(spec.clusters)],
        changes[len(spec.clusters) :],
    )
    for c, change in zip(spec.clusters, cluster_changes, strict=True):
        if change.action != "unchanged":
            Cluster.objects.update_or_create(cluster_name=c.clusterName, defaults=cluster_values(c))
    for t, change in zip(spec.tasks, task_changes, strict=True):
        if change.action != "unchanged":
            SyncTask.objects.update_or_create(
                source=Cluster.objects.get(cluster_name=t.source),
                destination=Cluster.objects.get(cluster_name=t.destination),
                sync_type=t.type,
                defaults=task_values(t),
            )
    return changes
