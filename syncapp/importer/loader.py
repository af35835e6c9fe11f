"""Bounded YAML loading: size, depth, node and alias limits enforced while the text is composed.

A 1 KB file of nested anchors ("billion laughs") expands to gigabytes once something walks
it, and 10,000 nested brackets overflow PyYAML's recursive composer. So the loader counts
every node as it is composed, an alias counting as many nodes as its anchor holds, and stops
at the first limit crossed: memory and time stay bounded whatever the file. It also keeps to
the plain YAML tags (no `!!python/...`, no custom tags, no merge keys) and records duplicate
keys, which PyYAML would otherwise resolve silently by keeping the last one.
"""

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 20  # a config needs 5: root, clusters, a cluster, connectKeyList, a key
MAX_NODES = 50_000  # counted with aliases expanded; 1,000 clusters and tasks need ~30,000
MAX_ALIASES = 1_000

TAG = "tag:yaml.org,2002:"
SCALAR_TAGS = {TAG + t for t in ("str", "int", "float", "bool", "null")}
DEFAULT_TAGS = {ScalarNode: TAG + "str", SequenceNode: TAG + "seq", MappingNode: TAG + "map"}
ALLOWED_TAGS = {ScalarNode: SCALAR_TAGS, SequenceNode: {TAG + "seq"}, MappingNode: {TAG + "map"}}


class LimitExceeded(yaml.MarkedYAMLError):
    """A bound crossed: the rest of the file is not read."""


class Bounds:
    """Composes within the limits above and notes tag and key problems (a mixin over
    PyYAML's Python Composer, whatever parser feeds it the events).

    Problems that leave the document readable (a refused tag, a duplicate key) are appended
    to `notes` as (line, message) and composing goes on, so a file's problems come in one
    pass; a crossed limit raises LimitExceeded.
    """

    def start_counting(self) -> None:
        self.notes: list[tuple[int, str]] = []
        self.depth = 0
        self.nodes = 0
        self.aliases = 0
        self.weights: dict[int, int] = {}  # id(node) -> nodes it holds, itself included

    def compose_node(self, parent, index):
        event = self.peek_event()
        alias = isinstance(event, yaml.AliasEvent)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self._stop(event, f"nested deeper than {MAX_DEPTH} levels")
        node = super().compose_node(parent, index)
        self.depth -= 1
        if alias:
            self._count_alias(node, event)
        else:
            self.weights[id(node)] = 1 + sum(self.weights.get(id(c), 1) for c in _children(node))
            self._count(1, event)
            self._check_tag(node)
        return node

    def compose_mapping_node(self, anchor):
        node = super().compose_mapping_node(anchor)
        self._check_keys(node)
        return node

    def _count_alias(self, node, event) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            self._stop(event, f"more than {MAX_ALIASES} aliases")
        weight = self.weights.get(id(node))
        if weight is None:  # the anchor is still open: the alias is inside what it names
            self._stop(event, f"alias *{event.anchor} refers to a node that contains it")
        self._count(weight, event)

    def _count(self, weight: int, event) -> None:
        self.nodes += weight
        if self.nodes > MAX_NODES:
            self._stop(event, f"more than {MAX_NODES} values (aliases expanded)")

    def _check_tag(self, node) -> None:
        kind = type(node)
        if node.tag == TAG + "merge":
            self._note(node, "merge keys (<<) are not supported: write the fields out")
        elif node.tag not in ALLOWED_TAGS[kind]:
            self._note(node, f"tag {_short(node.tag)} is not allowed: only plain YAML values")
        else:
            return
        node.tag = DEFAULT_TAGS[kind]  # read on as text, so later problems show too

    def _check_keys(self, node: MappingNode) -> None:
        first_line = {}
        for index, (key, value) in enumerate(node.value):
            if not isinstance(key, ScalarNode):
                self._note(key, "a key must be a plain name, not a list or a mapping")
                placeholder = ScalarNode(TAG + "str", "(invalid key)", key.start_mark, key.end_mark)
                node.value[index] = (placeholder, value)
                continue
            if key.value in first_line:
                self._note(
                    key, f"duplicate key {key.value!r} (first at line {first_line[key.value]})"
                )
            first_line.setdefault(key.value, key.start_mark.line + 1)

    def _note(self, node, message: str) -> None:
        self.notes.append((node.start_mark.line + 1, message))

    @staticmethod
    def _stop(event, message: str):
        raise LimitExceeded(problem=message, problem_mark=event.start_mark)


def _children(node) -> list:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix(TAG) if tag.startswith(TAG) else tag


if yaml.__with_libyaml__:
    from yaml._yaml import CParser as Parser  # libyaml's scanner and parser: ~5x faster
else:  # pragma: no cover - PyYAML built without libyaml
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class Parser(Reader, Scanner, yaml.parser.Parser):
        def __init__(self, stream):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)


class BoundedLoader(Bounds, Composer, Parser, SafeConstructor, Resolver):
    """Events from the (C, when built) parser, composed in Python by Bounds, constructed by
    the SafeConstructor: a safe loader whose composing can be counted and stopped."""

    def __init__(self, text: str):
        Parser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.start_counting()


# Dates and times stay text: a name such as 2024-01-02 (or 2024-13-45) is a name, not a date.
BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != TAG + "timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
