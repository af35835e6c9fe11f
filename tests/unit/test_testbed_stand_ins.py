"""The test bed's version matrix (issue 17): a flavour stands in for its server in every
fixture and in outages, under the server's own export names, and nothing else changes."""

import pytest

from tests.testbed import matrix
from tests.testbed.pytest_plugin import exported
from tests.testbed.servers import STAND_INS_VARIABLE, UnknownServer, load


def test_without_stand_ins_each_server_is_itself(monkeypatch):
    monkeypatch.delenv(STAND_INS_VARIABLE, raising=False)
    monkeypatch.delenv("ZK_ADDR", raising=False)
    assert load("zookeeper").name == "zookeeper"
    assert exported("zookeeper") == {"ZK_ADDR": "127.0.0.1:12181"}


def test_a_flavour_stands_in_under_the_servers_names(monkeypatch):
    monkeypatch.setenv(STAND_INS_VARIABLE, "zookeeper=zookeeper34,eureka=eureka1")
    monkeypatch.setenv("ZK_ADDR", "127.0.0.1:1")  # a leftover pointing at the default: ignored
    assert load("zookeeper").name == "zookeeper34"  # halt/resume hit the flavour too
    assert exported("zookeeper") == {"ZK_ADDR": "127.0.0.1:12183"}
    assert exported("eureka") == {"EUREKA_URL": "http://127.0.0.1:18763/eureka"}
    assert load("consul").name == "consul"


def test_only_a_known_flavour_of_that_server_may_stand_in(monkeypatch):
    monkeypatch.setenv(STAND_INS_VARIABLE, "zookeeper=eureka1")
    with pytest.raises(UnknownServer):
        load("zookeeper")


def test_a_matrix_run_drops_the_variables_that_point_at_the_default(monkeypatch):
    monkeypatch.setenv("ZK_ADDR", "127.0.0.1:12181")
    environment = matrix.stand_in_environment("zookeeper", "zookeeper39")
    assert "ZK_ADDR" not in environment
    assert environment[STAND_INS_VARIABLE] == "zookeeper=zookeeper39"


def test_the_result_line_is_read_from_quiet_and_verbose_pytest():
    assert matrix.SUMMARY.findall("..\n16 passed, 38 deselected in 10.15s\n") == [
        "16 passed, 38 deselected"
    ]
    assert matrix.SUMMARY.findall("==== 1 failed, 2 passed in 3.0s ====") == ["1 failed, 2 passed"]
