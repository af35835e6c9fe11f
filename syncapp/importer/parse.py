"""Parse and validate the MSE Sync YAML; every problem names its line and field.

Loading is bounded (syncapp/importer/loader.py); field values are checked by the same model
validation the API, console and admin use (syncapp/importer/rules.py), so a file is refused
for exactly what a form would refuse, with line numbers added.
"""

import re
from dataclasses import dataclass, field

import yaml

from syncapp.importer.loader import MAX_BYTES, BoundedLoader
from syncapp.registries import USER_KINDS

TASK_TYPES = ("Service", "Config")
TASK_MODES = ("Unidirectional", "Bidirectional")
MAX_CLUSTERS = 1_000
MAX_TASKS = 1_000
INVALID = object()  # a value that could not be read; its problem is already recorded
PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


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
    overwriteNativeConfigs: bool = False  # msesync's own: Config tasks (README, Configs)


@dataclass
class ConfigSpec:
    clusters: list[ClusterSpec] = field(default_factory=list)
    tasks: list[TaskSpec] = field(default_factory=list)


# field -> (required, expected python type(s))
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
    "overwriteNativeConfigs": (False, bool),
}


# --- text ----------------------------------------------------------------------------------


def read_config_file(path) -> str:
    """The file's text, reading at most MAX_BYTES + 1 bytes of it."""
    with open(path, "rb") as file:
        return decode_config(file.read(MAX_BYTES + 1))


def decode_config(data: bytes) -> str:
    """UTF-8 text (a BOM allowed) within MAX_BYTES, or ConfigError saying where it is not."""
    if len(data) > MAX_BYTES:
        raise ConfigError([Problem(1, "(file)", f"larger than {_size(MAX_BYTES)}")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        raise ConfigError(
            [Problem(line, "(file)", f"not UTF-8 text: byte 0x{byte:02x} cannot be decoded")]
        ) from None


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB"


def _syntax_problem(exc: yaml.YAMLError, text: str) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        line = text[: exc.position].count("\n") + 1
        return Problem(line, "(yaml)", f"character #x{exc.character:04x} is not allowed")
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    message = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if context is not None:
        message += f" ({exc.context} at line {context.line + 1})"
    return Problem(mark.line + 1 if mark else 1, "(yaml)", message)


# --- nodes ---------------------------------------------------------------------------------


class _Reader:
    """Walks the composed YAML nodes, so every value keeps its line number."""

    def __init__(self, text: str):
        if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            raise ConfigError([Problem(1, "(file)", f"larger than {_size(MAX_BYTES)}")])
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: no UTF-8 file holds one
            line = text[: exc.start].count("\n") + 1
            raise ConfigError(
                [Problem(line, "(file)", "not UTF-8 text: a lone surrogate")]
            ) from None
        self.text = text
        self.problems: list[Problem] = []
        try:
            self.loader = BoundedLoader(text)
        except yaml.YAMLError as exc:
            raise ConfigError([_syntax_problem(exc, text)]) from None

    def fail(self, node, field_name: str, message: str) -> None:
        self.problems.append(Problem(node.start_mark.line + 1, field_name, message))

    def root(self):
        try:
            node = self.loader.get_single_node()
        except yaml.YAMLError as exc:
            raise ConfigError([_syntax_problem(exc, self.text)]) from None
        self.problems += [Problem(line, "(yaml)", note) for line, note in self.loader.notes]
        if node is None:
            raise ConfigError([Problem(1, "(document)", "the file is empty")])
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError([Problem(1, "(document)", "must be a mapping with clusters/tasks")])
        return node

    def value(self, node, where: str = "(yaml)"):
        """The node's Python value, or INVALID (reported) when it cannot be read."""
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, KeyError, AttributeError, TypeError) as exc:
            # `!!int abc`, `!!bool maybe`, an integer of more than 4,300 digits...
            self.fail(node, where, _unreadable(node, exc))
            return INVALID

    def key(self, node) -> str:
        """A mapping key as messages show it: plain names as they are, anything else quoted
        and cut short (a key may hold newlines or a megabyte)."""
        value = self.value(node)
        if isinstance(value, str) and PLAIN_KEY.fullmatch(value):
            return value
        return repr(value if isinstance(value, str) else node.value)[:60]

    def items(self, mapping, allowed: dict, where: str) -> dict:
        """{field: (node, value)} of a mapping, reporting unknown and mistyped fields."""
        found = {}
        for key_node, value_node in mapping.value:
            name = self.key(key_node)
            if name not in allowed:
                self.fail(
                    key_node, f"{where}.{name}", f"unknown field; known: {', '.join(allowed)}"
                )
                continue
            value = self.value(value_node, f"{where}.{name}")
            if value is INVALID:
                continue
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

    def sequence(self, root, name: str, limit: int) -> list:
        for key_node, value_node in root.value:
            if self.key(key_node) != name:
                continue
            if isinstance(value_node, yaml.ScalarNode) and value_node.value in ("", "~", "null"):
                return []  # `tasks:` with nothing under it
            if not isinstance(value_node, yaml.SequenceNode):
                self.fail(value_node, name, "must be a list")
                return []
            if len(value_node.value) > limit:
                self.fail(value_node, name, f"at most {limit} entries, not {len(value_node.value)}")
                return []
            return value_node.value
        return []


def _unreadable(node, exc: Exception) -> str:
    """`!!int abc` -> "'abc' is not a valid !!int value" (and why, when Python says more)."""
    tag = node.tag.removeprefix("tag:yaml.org,2002:")
    shown = repr(node.value)[:60] if isinstance(node, yaml.ScalarNode) else "this value"
    detail = getattr(exc, "problem", None) or (str(exc) if isinstance(exc, ValueError) else "")
    detail = f" ({detail.splitlines()[0][:120]})" if detail else ""
    return f"{shown} is not a valid !!{tag} value{detail}"


# --- spec ----------------------------------------------------------------------------------


def parse_config(text: str) -> ConfigSpec:
    """The validated spec of a YAML text, or ConfigError listing every problem."""
    from syncapp.importer import rules  # models: imported when first used, not at app loading

    reader = _Reader(text)
    root = reader.root()
    for key_node, _ in root.value:
        if reader.key(key_node) not in ("clusters", "tasks"):
            reader.fail(key_node, reader.key(key_node), "unknown top-level key")
    spec = ConfigSpec()
    for i, node in enumerate(reader.sequence(root, "clusters", MAX_CLUSTERS)):
        if cluster := _cluster(reader, node, i, rules):
            spec.clusters.append(cluster)
    for i, node in enumerate(reader.sequence(root, "tasks", MAX_TASKS)):
        if task := _task(reader, node, i, rules):
            spec.tasks.append(task)
    _check_duplicates(reader, spec)
    if reader.problems:
        raise ConfigError(sorted(set(reader.problems), key=lambda p: (p.line, p.field)))
    return spec


def _mapping(reader, node, where):
    if not isinstance(node, yaml.MappingNode):
        reader.fail(node, where, "must be a mapping")
        return None
    return node


def _cluster(reader, node, index, rules) -> ClusterSpec | None:
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
    if isinstance(values.get("namespace"), list):
        values["namespace"] = _joined(reader, fields["namespace"][0], f"{where}.namespace")
    if "password" in values:
        values["password"] = str(values["password"])
    if not all(k in values for k, (required, _) in CLUSTER_FIELDS.items() if required):
        return None
    spec = ClusterSpec(line=node.start_mark.line + 1, **values)
    for name, message in rules.cluster_problems(spec):
        reader.fail(fields[name][0] if name in fields else node, f"{where}.{name}", message)
    return spec


def _joined(reader, node, where: str) -> str:
    """A namespace list as the comma-separated text the column holds; names only."""
    names = [n for n in reader.value(node) if isinstance(n, str)]
    if len(names) != len(node.value):
        reader.fail(node, where, "must be a list of namespace names")
    return ",".join(names)


def _task(reader, node, index, rules) -> TaskSpec | None:
    where = f"tasks[{index}]"
    if _mapping(reader, node, where) is None:
        return None
    fields = reader.items(node, TASK_FIELDS, where)
    values = {k: v for k, (_, v) in fields.items()}
    _check_choice(reader, fields, where, "type", TASK_TYPES)
    _check_choice(reader, fields, where, "mode", TASK_MODES)
    if "source" not in values or "destination" not in values:
        return None
    spec = TaskSpec(line=node.start_mark.line + 1, **values)
    for name, message in rules.task_field_problems(spec):
        reader.fail(fields[name][0] if name in fields else node, f"{where}.{name}", message)
    return spec


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
