"""Hostile and malformed YAML for the importer: hand-written files (files/), generated
extremes (anchor bombs, deep nesting, huge values and lists) and seeded random mutations
of a valid file.

A name ending in `-ok` is a valid file that must be accepted; every other hand-written or
generated file must be refused; a mutation may be either, but never a traceback.
"""

import random
from pathlib import Path

FILES = Path(__file__).parent / "files"
MUTATIONS = 330
SEED = 14

VALID = """\
clusters:
  - clusterName: src
    clusterType: NACOS
    connectKeyList: ["127.0.0.1:8848", "http://10.0.0.2:8848/nacos"]
    namespace: public,test
    userName: nacos
    password: s3cret
  - clusterName: dst
    clusterType: EUREKA
    connectKeyList: ["http://eureka:8761/eureka"]
  - clusterName: zk1
    clusterType: ZOOKEEPER
    connectKeyList: ["10.0.0.3:2181/dubbo"]
  - clusterName: zk2
    clusterType: ZOOKEEPER
    connectKeyList: ["10.0.0.4:2181"]
  - clusterName: consul
    clusterType: CONSUL
    connectKeyList: ["[::1]:8500"]
tasks:
  - source: src
    destination: dst
    type: Service
    mode: Bidirectional
    serviceMatchPattern: "^(?:orders|payments)$"
    autoScanAndAddService: true
  - source: zk1
    destination: zk2
    type: Config
    mode: Unidirectional
    serviceMatchPattern: "/conf(/.*)?"
  - source: consul
    destination: src
    keepServiceNameCase: false
"""

# Values a mutation may put in place of another.
NASTY_VALUES = [
    "*nowhere",
    "!!python/object:os.system {}",
    "!!python/object/apply:os.system [id]",
    "!custom x",
    "!!int abc",
    "!!bool maybe",
    "!!float x",
    "!!binary '%%%'",
    "!!timestamp 2024-13-45",
    "2024-13-45",
    "~",
    "[]",
    "{}",
    "[[[]]]",
    "-1",
    "1e400",
    ".nan",
    "0x1F",
    "yes",
    "''",
    '"\\ud800"',
    '"\\0"',
    '"a\\nb"',
    '"file:///etc/passwd"',
    '"127.0.0.1:99999"',
    '"(?=x)"',
    '"(a)\\\\1"',
    "9" * 5000,
    "x" * 1000,
    "<<",
    "&anchor value",
    "? complex",
    "|",
    ">-",
    "%TAG",
    "@",
    "`",
]
NASTY_CHARS = list(":-[]{}&*!|>'\"%@`#,?\t\\") + ["\x00", "\x1b", "é", "\u2028", "\ufeff"]


def hand_written() -> dict[str, bytes]:
    return {f"files/{p.name}": p.read_bytes() for p in sorted(FILES.iterdir())}


def anchor_bomb(levels: int) -> bytes:
    """ "Billion laughs": each level an alias list of ten of the level below."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    cluster = (
        "clusters:\n  - clusterName: bomb\n    clusterType: NACOS\n"
        f'    connectKeyList: ["h:1"]\n    namespace: *a{levels - 1}\n'
    )
    return ("\n".join(lines) + "\n" + cluster).encode()


def clusters(count: int, flow: bool = False) -> bytes:
    if flow:
        items = ",".join(
            f'{{clusterName: c{i}, clusterType: NACOS, connectKeyList: ["h:{i % 60000 + 1}"]}}'
            for i in range(count)
        )
        return f"clusters: [{items}]\n".encode()
    return (
        "clusters:\n"
        + "".join(
            f'  - clusterName: c{i}\n    clusterType: NACOS\n    connectKeyList: ["h:1"]\n'
            for i in range(count)
        )
    ).encode()


def one_cluster(**fields: str) -> bytes:
    values = {"clusterName": "a", "clusterType": "NACOS", "connectKeyList": '["h:1"]', **fields}
    return (
        "clusters:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in values.items()) + "\n"
    ).encode()


def generated() -> dict[str, bytes]:
    """The extremes, built here rather than stored (several are megabytes)."""
    files = {f"anchor-bomb-{n}-levels": anchor_bomb(n) for n in range(5, 11)}
    files |= {
        "deep-flow-10000": b"clusters: " + b"[" * 10_000 + b"]" * 10_000 + b"\n",
        "deep-flow-maps-10000": b"clusters: " + b"{a: " * 10_000 + b"1" + b"}" * 10_000 + b"\n",
        "deep-block-10000": b"clusters:\n" + b"- " * 10_000 + b"x\n",
        "deep-indent-2000": b"clusters:\n" + b"".join(b"  " * i + b"-\n" for i in range(1, 2000)),
        "big-int-name": one_cluster(clusterName="9" * 5000),
        "big-int-key": one_cluster(connectKeyList="[" + "9" * 5000 + "]"),
        "big-int-password": one_cluster(password="1" * 4301),
        "name-100000-chars": one_cluster(clusterName="n" * 100_000),
        "namespace-10mb": one_cluster(namespace="n" * 10_000_000),
        "namespace-600-chars": one_cluster(namespace="n" * 600),
        "pattern-10000-chars": one_cluster()
        + b"tasks:\n  - source: a\n    destination: b\n    serviceMatchPattern: "
        + b"a" * 10_000
        + b"\n",
        "clusters-60000": clusters(60_000),
        "clusters-60000-flow": b"clusters: [" + b"{}," * 60_000 + b"]\n",
        "clusters-1001": clusters(1001, flow=True),
        "connect-keys-1000": one_cluster(
            connectKeyList="[" + ",".join(f'"h:{i + 1}"' for i in range(1000)) + "]"
        ),
        "aliases-1500": b"x: &x a\nclusters: [" + b"*x," * 1500 + b"]\n",
        "scalars-60000": b"clusters:\n  - connectKeyList: [" + b"a," * 60_000 + b"]\n",
        "long-line-900kb": b"clusters: []\nx: " + b"y" * 900_000 + b"\n",
        "over-1mib": b"# " + b"x" * (1024 * 1024) + b"\nclusters: []\n",
        "utf8-bom-ok": b"\xef\xbb\xbf" + VALID.encode(),
        "clusters-1000-ok": clusters(1000),
    }
    return {f"generated/{name}": data for name, data in files.items()}


def mutations(count: int = MUTATIONS, seed: int = SEED) -> dict[str, bytes]:
    """Seeded random edits of VALID: the same files on every run."""
    rng = random.Random(seed)
    edits = (_delete_char, _insert_char, _replace_value, _duplicate_line, _drop_line, _indent)
    files = {}
    for i in range(count):
        lines = VALID.splitlines(keepends=True)
        for _ in range(rng.randint(1, 3)):
            lines = rng.choice(edits)(rng, lines)
        text = "".join(lines)
        files[f"mutation/{i:03d}"] = text.encode("utf-8", "surrogatepass")
    return files


def _delete_char(rng, lines):
    i = rng.randrange(len(lines))
    if len(lines[i]) > 1:
        j = rng.randrange(len(lines[i]) - 1)
        lines[i] = lines[i][:j] + lines[i][j + 1 :]
    return lines


def _insert_char(rng, lines):
    i = rng.randrange(len(lines))
    j = rng.randrange(len(lines[i]))
    lines[i] = lines[i][:j] + rng.choice(NASTY_CHARS) + lines[i][j:]
    return lines


def _replace_value(rng, lines):
    candidates = [i for i, line in enumerate(lines) if ": " in line]
    i = rng.choice(candidates)
    key = lines[i].split(": ", 1)[0]
    lines[i] = f"{key}: {rng.choice(NASTY_VALUES)}\n"
    return lines


def _duplicate_line(rng, lines):
    i = rng.randrange(len(lines))
    return lines[: i + 1] + [lines[i]] + lines[i + 1 :]


def _drop_line(rng, lines):
    i = rng.randrange(len(lines))
    return lines[:i] + lines[i + 1 :]


def _indent(rng, lines):
    i = rng.randrange(len(lines))
    lines[i] = rng.choice(["", " ", "   ", "      "]) + lines[i].lstrip(" ")
    return lines


def corpus() -> dict[str, bytes]:
    return hand_written() | generated() | mutations()


def must_be_accepted(name: str) -> bool:
    return name.endswith("-ok") or name.endswith("-ok.yaml")


def may_be_either(name: str) -> bool:
    return name.startswith("mutation/")
