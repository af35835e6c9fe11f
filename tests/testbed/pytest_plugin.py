"""Pytest side of the test bed: each server's address, or a skip/fail saying how to start it."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

from tests.testbed.servers import load, load_exactly, stand_ins

# fixture name -> (test-bed server, export holding its address)
FIXTURES = {
    "nacos": ("nacos", "NACOS_ADDR"),
    "nacos_alt": ("rnacos", "NACOS_ALT_ADDR"),
    "zookeeper": ("zookeeper", "ZK_ADDR"),
    "eureka": ("eureka", "EUREKA_URL"),
    "eureka_alt": ("eureka_alt", "EUREKA_ALT_URL"),
    "consul": ("consul", "CONSUL_ADDR"),
    "consul_alt": ("consul_alt", "CONSUL_ALT_ADDR"),
    "mysql": ("mariadb", "MYSQL_URL"),
    "redis": ("redis", "REDIS_URL"),
}
PROBE_TIMEOUT = 1.0


def exported(server: str) -> dict[str, str]:
    """The server's exports, each overridden by an environment variable of the same name.

    While a flavour stands in for the server (a matrix run), its values come under the server's
    own names, position by position, and no variable overrides them."""
    own = load_exactly(server).exports()
    if server in stand_ins():
        return dict(zip(own, load(server).exports().values(), strict=True))
    return {name: os.environ.get(name, value) for name, value in own.items()}


def host_port(address: str) -> tuple[str, int]:
    """Host and port of "h:p", "scheme://h:p/..." or "jdbc:mysql://h:p/db"."""
    url = address.removeprefix("jdbc:")
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"no host:port in {address!r}")
    return parts.hostname, parts.port


def reachable(address: str) -> bool:
    try:
        with socket.create_connection(host_port(address), timeout=PROBE_TIMEOUT):
            return True
    except OSError:
        return False


def unavailable(server: str, reason: str) -> None:
    """Skip locally, fail on CI (where a missing server is a broken pipeline, not a choice)."""
    message = f"{reason}; start it with: python -m tests.testbed up {server}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def address_of(server: str, export: str) -> str:
    """The address tests should use for `server`, after checking something listens there."""
    try:
        address = exported(server)[export]
    except ImportError as error:  # the server's test-bed module is not written yet
        unavailable(server, f"no test-bed module for {server} ({error})")
    if not reachable(address):
        unavailable(server, f"{server} is not reachable at {address} ({export})")
    return address


def endpoint_fixture(fixture_name: str):
    """A session fixture named `fixture_name` returning its server's address."""
    server, export = FIXTURES[fixture_name]

    @pytest.fixture(scope="session", name=fixture_name)
    def endpoint() -> str:
        """The server's address; skips (fails on CI) when nothing answers there."""
        return address_of(server, export)

    return endpoint
