"""Parse and validate the MSE Sync YAML; every problem names its line and field."""

import re
from dataclasses import dataclass, field

import yaml

from syncapp.registries import USER_KINDS

TASK_TYPES = ("Service", "Config")
TASK_MODES = ("Unidirectional", "Bidirectional")


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self):
        return f"line {self.line}: {self.field}: {self.message}"


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ClusterSpec:
    line: int
    clusterName: str
    clusterType: str
    connectKeyList: list[str]
    namespace: str = ""
    userName: str = ""
    password: str = ""
    ak: str = ""
    sk: str = ""


@dataclass
class TaskSpec:
    line: int
    source: str
    destination: str
    type: str = "Service"
    mode: str = "Unidirectional"
    serviceMatchPattern: str = ".*"
    autoScanAndAddService: bool = True
    keepServiceNameCase: bool = False  # msesync's own: keep Eureka's upper-case names


@dataclass
class ConfigSpec:
    clusters: list[ClusterSpec] = field(default_factory=list)
    tasks: list[TaskSpec] = field(default_factory=list)


# field -> (required, expected python type(s), description of the type for messages)
CLUSTER_FIELDS = {
    "clusterName": (True, str),
    "clusterType": (True, str),
    "connectKeyList": (True, list),
    "namespace": (False, (str, list)),
    "userName": (False, str),
    "password": (False, (str, int)),
    "ak": (False, str),
    "sk": (False, str),
}
TASK_FIELDS = {
    "source": (True, str),
    "destination": (True, str),
    "type": (False, str),
    "mode": (False, str),
    "serviceMatchPattern": (False, str),
    "autoScanAndAddService": (False, bool),
    "keepServiceNameCase": (False, bool),
}


def _syntax_problem(exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    message = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if context is not None:
        message += f" ({exc.context} at line {context.line + 1})"
    return Problem(mark.line + 1 if mark else 1, "(yaml)", message)


class _Reader:
    """Walks the composed YAML nodes, so every value keeps its line number."""

    def __init__(self, text: str):
        self.loader = yaml.SafeLoader(text)
        self.problems: list[Problem] = []

    def fail(self, node, field_name: str, message: str) -> None:
        self.problems.append(Problem(node.start_mark.line + 1, field_name, message))

    def root(self):
        try:
            node = self.loader.get_single_node()
        except yaml.YAMLError as exc:
            raise ConfigError([_syntax_problem(exc)]) from None
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError([Problem(1, "(document)", "must be a mapping with clusters/tasks")])
        return node

    def value(self, node):
        return self.loader.construct_object(node, deep=True)

    def items(self, mapping, allowed: dict, where: str) -> dict:
        """{field: (node, value)} of a mapping, reporting unknown and mistyped fields."""
        found = {}
        for key_node, value_node in mapping.value:
            name = self.value(key_node)
            if name not in allowed:
                self.fail(
                    key_node,
                    f"{where}.{name}",
                    f"unknown field; known: {', '.join(allowed)}",
                )
                continue
            value = self.value(value_node)
            if not isinstance(value, allowed[name][1]) or (
                isinstance(value, bool) and allowed[name][1] is not bool
            ):
                self.fail(value_node, f"{where}.{name}", f"wrong type {type(value).__name__}")
                continue
            found[name] = (value_node, value)
        for name, (required, _) in allowed.items():
            if required and name not in found and not self._reported(where, name):
                self.fail(mapping, f"{where}.{name}", "required field is missing")
        return found

    def _reported(self, where: str, name: str) -> bool:
        return any(p.field == f"{where}.{name}" for p in self.problems)

    def sequence(self, root, name: str) -> list:
        for key_node, value_node in root.value:
            if self.value(key_node) != name:
                continue
            if not isinstance(value_node, yaml.SequenceNode):
                self.fail(value_node, name, "must be a list")
                return []
            return value_node.value
        return []


def parse_config(text: str) -> ConfigSpec:
    """The validated spec of a YAML text, or ConfigError listing every problem."""
    reader = _Reader(text)
    root = reader.root()
    for key_node, _ in root.value:
        if reader.value(key_node) not in ("clusters", "tasks"):
            reader.fail(key_node, str(reader.value(key_node)), "unknown top-level key")
    spec = ConfigSpec(
        clusters=[
            c
            for c in (
                _cluster(reader, n, i) for i, n in enumerate(reader.sequence(root, "clusters"))
            )
            if c
        ],
    )
    spec.tasks = [
        t for t in (_task(reader, n, i) for i, n in enumerate(reader.sequence(root, "tasks"))) if t
    ]
    _check_duplicates(reader, spec)
    if reader.problems:
        raise ConfigError(sorted(reader.problems, key=lambda p: p.line))
    return spec


def _mapping(reader, node, where):
    if not isinstance(node, yaml.MappingNode):
        reader.fail(node, where, "must be a mapping")
        return None
    return node


def _cluster(reader, node, index) -> ClusterSpec | None:
    where = f"clusters[{index}]"
    if _mapping(reader, node, where) is None:
        return None
    fields = reader.items(node, CLUSTER_FIELDS, where)
    values = {k: v for k, (_, v) in fields.items()}
    if "clusterType" in fields and values["clusterType"] not in USER_KINDS:
        reader.fail(
            fields["clusterType"][0],
            f"{where}.clusterType",
            f"unknown clusterType {values['clusterType']!r}; one of {', '.join(USER_KINDS)}",
        )
    if "connectKeyList" in fields and not _non_empty_strings(values["connectKeyList"]):
        reader.fail(
            fields["connectKeyList"][0],
            f"{where}.connectKeyList",
            "must be a non-empty list of host:port strings",
        )
    if isinstance(values.get("namespace"), list):
        values["namespace"] = ",".join(str(n) for n in values["namespace"])
    if "password" in values:
        values["password"] = str(values["password"])
    if all(k in values for k, (required, _) in CLUSTER_FIELDS.items() if required):
        return ClusterSpec(line=node.start_mark.line + 1, **values)
    return None


def _non_empty_strings(items) -> bool:
    return bool(items) and all(isinstance(i, str) and i.strip() for i in items)


def _task(reader, node, index) -> TaskSpec | None:
    where = f"tasks[{index}]"
    if _mapping(reader, node, where) is None:
        return None
    fields = reader.items(node, TASK_FIELDS, where)
    values = {k: v for k, (_, v) in fields.items()}
    _check_choice(reader, fields, where, "type", TASK_TYPES)
    _check_choice(reader, fields, where, "mode", TASK_MODES)
    if "serviceMatchPattern" in fields:
        try:
            re.compile(values["serviceMatchPattern"])
        except re.error as exc:
            reader.fail(
                fields["serviceMatchPattern"][0],
                f"{where}.serviceMatchPattern",
                f"invalid regular expression: {exc}",
            )
    if "source" in values and "destination" in values:
        return TaskSpec(line=node.start_mark.line + 1, **values)
    return None


def _check_choice(reader, fields, where, name, choices) -> None:
    if name in fields and fields[name][1] not in choices:
        reader.fail(
            fields[name][0],
            f"{where}.{name}",
            f"unknown {name} {fields[name][1]!r}; one of {', '.join(choices)}",
        )


def _check_duplicates(reader: _Reader, spec: ConfigSpec) -> None:
    first_line = {}
    for i, cluster in enumerate(spec.clusters):
        name = cluster.clusterName
        if name in first_line:
            reader.problems.append(
                Problem(
                    cluster.line,
                    f"clusters[{i}].clusterName",
                    f"duplicate clusterName {name!r} (first at line {first_line[name]})",
                )
            )
        first_line.setdefault(name, cluster.line)
    first_task = {}
    for i, task in enumerate(spec.tasks):
        ident = (task.source, task.destination, task.type)
        if ident in first_task:
            reader.problems.append(
                Problem(
                    task.line,
                    f"tasks[{i}]",
                    f"duplicate task {task.source} -> {task.destination} ({task.type}) "
                    f"(first at line {first_task[ident]})",
                )
            )
        first_task.setdefault(ident, task.line)
