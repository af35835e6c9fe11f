"""The test-bed servers: kind -> dotted path of its ServerImpl, imported only when used."""

from __future__ import annotations

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
}


class UnknownServer(KeyError):
    """A server name that is not in SERVERS."""

    def __str__(self) -> str:
        return f"unknown test-bed server {self.args[0]!r}; known: {', '.join(SERVERS)}"


@cache
def load(name: str) -> Server:
    """The (single) ServerImpl instance for `name`, importing its module on first use."""
    try:
        dotted = SERVERS[name]
    except KeyError:
        raise UnknownServer(name) from None
    module_path, class_name = dotted.rsplit(".", 1)
    return getattr(import_module(module_path), class_name)()
