"""Turn a validated spec into database rows: diff first, then apply in one transaction."""

from dataclasses import dataclass, field

from django.db import transaction

from syncapp import validators
from syncapp.importer.parse import (
    ClusterSpec,
    ConfigError,
    ConfigSpec,
    Problem,
    TaskSpec,
)
from syncapp.models import Cluster, SyncTask


@dataclass
class Change:
    action: str  # create | update | unchanged
    kind: str  # cluster | task
    name: str
    fields: dict = field(default_factory=dict)  # name -> (old, new)

    def __str__(self):
        if self.action != "update":
            return f"{self.action} {self.kind} {self.name}"
        shown = ", ".join(
            f"{k}: {_show(k, o)} -> {_show(k, n)}" for k, (o, n) in self.fields.items()
        )
        return f"update {self.kind} {self.name}: {shown}"


def _show(name, value):
    return "***" if name in Cluster.SECRET_FIELDS and value else repr(value)


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
    for t in spec.tasks:
        row = SyncTask.objects.filter(
            source__cluster_name=t.source,
            destination__cluster_name=t.destination,
            sync_type=t.type,
        ).first()
        changes.append(_diff_row("task", _task_name(t), row, task_values(t)))
    return changes


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
