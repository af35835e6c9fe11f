"""Configuration sync: plan (pure) and apply, for key -> bytes stores such as znode trees.

The task's pattern owns what it matches at the destination: matching keys the source lacks
are deleted there, and nothing outside the pattern is ever touched.
"""

import re
from dataclasses import dataclass, field

META = set(".^$*+?{}[]|()\\")


@dataclass
class ConfigChanges:
    put: list[tuple[str, bytes]] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)

    def __bool__(self):
        return bool(self.put or self.delete)


def config_root(pattern: str) -> str:
    """The deepest path every match lies under: `/app/conf(/.*)?` -> `/app/conf`."""
    literal = ""
    for char in pattern.removeprefix("^"):
        if char in META:
            break
        literal += char
    rest = pattern.removeprefix("^")[len(literal) :]
    if rest and not rest.startswith(("/", "(/")):
        literal = literal.rsplit("/", 1)[0]  # the pattern continues inside this name
    return literal.rstrip("/") or "/"


def plan_configs(source: dict[str, bytes], dest: dict[str, bytes], pattern: str) -> ConfigChanges:
    owned = re.compile(pattern)
    want = {k: v for k, v in source.items() if owned.fullmatch(k)}
    have = {k: v for k, v in dest.items() if owned.fullmatch(k)}
    return ConfigChanges(
        put=sorted((k, v) for k, v in want.items() if have.get(k) != v),
        # deepest first, so a folder is empty by the time its turn comes
        delete=sorted((k for k in have if k not in want), key=lambda k: (-k.count("/"), k)),
    )
