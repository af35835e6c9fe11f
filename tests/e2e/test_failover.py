"""Issue 6 at a scale CI affords: 3 nodes on MariaDB + Redis, killed one at a time.

The full-scale run (200 × 5 services and 100 Dubbo providers) is `python -m bench.failover`;
this runs the same harness with 40 × 5 and 20 providers and asserts its promises.
"""

import pytest

from bench.failover import REFRESH_INTERVAL, Bench

pytestmark = pytest.mark.usefixtures("mysql", "redis", "zookeeper", "nacos", "nacos_alt")


@pytest.fixture(scope="module")
def result():
    return Bench(services=40, instances=5, providers=20, load_window=60).run()


def steps(result) -> dict[str, dict]:
    return {step["step"].split(" (")[0].rsplit(" ", 1)[0]: step for step in result["steps"]}


def test_no_client_sees_an_instance_missing_for_more_than_a_second(result):
    """Nacos copies are held by a keeper's gRPC connection: Nacos unlists a killed holder's
    copies ~0.6 s after its death, and lists the new holder's ~0.6 s after it registers, so a
    poll may fall between the two; the promise is a gap of at most 1 s (issue 11)."""
    for step in result["steps"]:
        assert step["worst_gap_ms"] <= 1000, step


def test_a_dead_nodes_work_is_owned_again_within_10_seconds(result):
    kills = [s for s in result["steps"] if s["step"].startswith("kill")]
    assert len(kills) == 2 and all(s["owned_again_s"] <= 10 for s in kills)
    leader_kill = next(s for s in kills if "beat leader" in s["step"])
    assert leader_kill["new_leader_s"] is not None and leader_kill["new_leader_s"] <= 10


def test_source_changes_made_during_each_outage_arrive_within_the_refresh_interval(result):
    assert len(result["steps"]) == 4  # two kills, a Redis restart, a MariaDB restart
    assert all(s["changes_arrived_s"] <= REFRESH_INTERVAL for s in result["steps"])


def test_three_nodes_share_the_work_instead_of_repeating_it(result):
    """Beyond the keepalives of each node's own gRPC connections (a fixed cost per node,
    measured on an idle connection in the same window), 3 nodes send about what one sends:
    work repeated on every node would be ~3x. At this scale the rest is ~0.6 KiB/s, mostly
    the refresh's one read per service (1.02x measured; CI once saw 1.78x while a refresh's
    services were read twice, by a scan that fell inside its jobs on another node)."""
    assert result["work_ratio"] <= 1.5, [str(row) for row in result["load"]]
