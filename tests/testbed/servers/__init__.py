"""The test-bed servers: kind -> dotted path of its ServerImpl, imported only when used."""

from __future__ import annotations

import os
from functools import cache
from importlib import import_module

from tests.testbed.base import Server

# Start order of `up` with no names; adding a server is one module plus one line here.
SERVERS = {
    "mariadb": "tests.testbed.servers.mariadb.ServerImpl",
    "redis": "tests.testbed.servers.redis.ServerImpl",
    "zookeeper": "tests.testbed.servers.zookeeper.ServerImpl",
    "consul": "tests.testbed.servers.consul.ServerImpl",
    "consul_alt": "tests.testbed.servers.consul_alt.ServerImpl",
    "rnacos": "tests.testbed.servers.rnacos.ServerImpl",
    "nacos": "tests.testbed.servers.nacos.ServerImpl",
    "eureka": "tests.testbed.servers.eureka.ServerImpl",
    "eureka_alt": "tests.testbed.servers.eureka_alt.ServerImpl",
    # Other versions of a kind (issue 17's matrix), each on its own ports beside the default.
    "zookeeper39": "tests.testbed.servers.zookeeper39.ServerImpl",
    "zookeeper34": "tests.testbed.servers.zookeeper34.ServerImpl",
    "eureka1": "tests.testbed.servers.eureka1.ServerImpl",
    "consul116": "tests.testbed.servers.consul116.ServerImpl",
}

# Server -> the other versions that can stand in for it in a matrix run of its tests.
FLAVOURS = {
    "zookeeper": ("zookeeper39", "zookeeper34"),
    "eureka": ("eureka1",),
    "consul": ("consul116",),
}
# "zookeeper=zookeeper34,eureka=eureka1": while set, load("zookeeper") gives zookeeper34, so
# every test (its address, and the outages it causes with halt/resume) meets that version.
STAND_INS_VARIABLE = "MSESYNC_TESTBED_STAND_INS"


class UnknownServer(KeyError):
    """A server name that is not in SERVERS."""

    def __str__(self) -> str:
        return f"unknown test-bed server {self.args[0]!r}; known: {', '.join(SERVERS)}"


def stand_ins() -> dict[str, str]:
    """server -> flavour standing in for it, from STAND_INS_VARIABLE; checked against FLAVOURS."""
    pairs = [p for p in os.environ.get(STAND_INS_VARIABLE, "").split(",") if p.strip()]
    chosen = dict(pair.strip().split("=", 1) for pair in pairs)
    for server, flavour in chosen.items():
        if flavour not in FLAVOURS.get(server, ()):
            raise UnknownServer(f"{server}={flavour} (in {STAND_INS_VARIABLE})")
    return chosen


def load(name: str) -> Server:
    """The ServerImpl for `name`, or for the flavour standing in for it in a matrix run."""
    return load_exactly(stand_ins().get(name, name))


@cache
def load_exactly(name: str) -> Server:
    """The (single) ServerImpl instance for `name`, importing its module on first use."""
    try:
        dotted = SERVERS[name]
    except KeyError:
        raise UnknownServer(name) from None
    module_path, class_name = dotted.rsplit(".", 1)
    return getattr(import_module(module_path), class_name)()
