"""The migration phase rule (syncapp/cockpit/phases.py) on every case it distinguishes."""

import pytest

from syncapp.cockpit.phases import (
    CONSUMERS_MOVING,
    DONE,
    NO_PROVIDERS,
    NOT_STARTED,
    PROVIDERS_MOVING,
    UNKNOWN,
    Side,
    phase_of,
)


def zk(natives, copies=0, subscribers=0):
    return Side("zk", natives, copies, subscribers)


def nacos(natives, copies=0, subscribers=0):
    return Side("nacos", natives, copies, subscribers)


@pytest.mark.parametrize(
    "old, new, phase",
    [
        (zk(2), nacos(0, copies=2), NOT_STARTED),
        (zk(2, subscribers=3), nacos(0, copies=2, subscribers=None), NOT_STARTED),
        (zk(2), nacos(0, copies=2, subscribers=1), CONSUMERS_MOVING),
        (zk(1, subscribers=1), nacos(1, copies=1, subscribers=1), PROVIDERS_MOVING),
        (zk(0, copies=1, subscribers=1), nacos(1), PROVIDERS_MOVING),  # a consumer is left
        (zk(0, copies=1, subscribers=None), nacos(1), PROVIDERS_MOVING),  # unknown is not 0
        (zk(0, copies=1, subscribers=0), nacos(1, subscribers=2), DONE),
        (zk(0), nacos(0), NO_PROVIDERS),
        (zk(None), nacos(1), UNKNOWN),
        (zk(1), nacos(None), UNKNOWN),
    ],
)
def test_the_phase_follows_the_written_rule(old, new, phase):
    assert phase_of(old, new, two_way=True).phase == phase


def test_consumers_on_the_new_side_with_providers_only_on_the_old_are_warned_of():
    verdict = phase_of(zk(1, subscribers=0), nacos(0, copies=1, subscribers=1), two_way=False)
    assert verdict.phase == CONSUMERS_MOVING
    assert "1 consumer(s) on nacos reach only copies of zk's providers" in verdict.warning


def test_consumers_left_on_the_old_side_are_warned_of_per_direction():
    old, new = zk(0, copies=1, subscribers=2), nacos(1, subscribers=0)
    assert "stopping or pausing" in phase_of(old, new, two_way=True).warning
    assert "does not copy nacos's providers back" in phase_of(old, new, two_way=False).warning


@pytest.mark.parametrize(
    "old, new",
    [
        (zk(1, subscribers=1), nacos(0, copies=1, subscribers=0)),  # nobody moved yet
        (zk(1, subscribers=1), nacos(1, subscribers=1)),  # providers on both sides
        (zk(0, subscribers=0), nacos(1, subscribers=1)),  # done
        (zk(1, subscribers=None), nacos(0, subscribers=None)),  # nothing known to warn of
    ],
)
def test_no_warning_where_every_consumer_has_a_native_provider_on_its_side(old, new):
    assert phase_of(old, new, two_way=True).warning == ""
