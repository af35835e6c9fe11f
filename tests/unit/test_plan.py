"""plan(): the pure heart of every pair."""

from syncapp.engine import Direction, plan
from syncapp.engine.markers import SOURCE_CLUSTER, SYNC_TAG
from syncapp.registries.base import Instance

WAY = Direction(task_id=7, source="a", dest="b", source_kind="NACOS", dest_kind="NACOS")
LIVE_ONLY = Direction(7, "a", "b", "NACOS", "CONSUL", dest_syncs_health=False)


def inst(port, **kw):
    return Instance(ip="10.0.0.1", port=port, **kw)


def copy_of(instance, direction=WAY):
    return instance.with_metadata(direction.markers)


def test_it_copies_every_source_instance_with_markers():
    source = [inst(1, metadata={"v": "1"}), inst(2, weight=3)]
    changes = plan(source, [], WAY)
    assert [i.port for i in changes.register] == [1, 2]
    first = changes.register[0]
    assert first.metadata["v"] == "1"
    assert first.metadata[SOURCE_CLUSTER] == "a"
    assert first.metadata["destClusterId"] == "b"
    assert first.metadata["syncSource"] == "NACOS"
    assert first.metadata[SYNC_TAG] == "a@@7"
    assert changes.deregister == []


def test_it_keeps_many_instances_of_one_service():
    source = [inst(p) for p in range(100)]
    assert len(plan(source, [], WAY).register) == 100


def test_it_never_copies_an_instance_that_carries_markers():
    source = [inst(1, metadata={SOURCE_CLUSTER: "b"}), inst(2, metadata={SYNC_TAG: "x@@1"})]
    assert not plan(source, [], WAY)


def test_it_does_nothing_when_in_step():
    source = [inst(1), inst(2)]
    dest = [copy_of(i) for i in source]
    changes = plan(source, dest, WAY)
    assert not changes
    assert len(changes.desired) == 2


def test_it_removes_only_its_own_copies_missing_at_source():
    native = inst(3)
    foreign = inst(4, metadata={SOURCE_CLUSTER: "other"})
    dest = [copy_of(inst(1)), copy_of(inst(2)), native, foreign]
    changes = plan([inst(1)], dest, WAY)
    assert [i.port for i in changes.deregister] == [2]
    assert changes.register == []


def test_it_propagates_metadata_weight_and_health_changes():
    dest = [copy_of(inst(1, metadata={"v": "1"})), copy_of(inst(2)), copy_of(inst(3))]
    source = [inst(1, metadata={"v": "2"}), inst(2, weight=5), inst(3, healthy=False)]
    changes = plan(source, dest, WAY)
    assert [i.port for i in changes.register] == [1, 2, 3]
    assert changes.register[0].metadata["v"] == "2"


def test_it_never_overwrites_a_native_instance_with_the_same_address():
    native = inst(1, metadata={"owner": "dest"})
    changes = plan([inst(1)], [native], WAY)
    assert changes.register == [] and changes.deregister == []
    assert changes.conflicts == [copy_of(inst(1))]


def test_it_copies_only_live_instances_where_the_destination_has_no_health():
    source = [inst(1), inst(2, healthy=False), inst(3, enabled=False)]
    assert [i.port for i in plan(source, [], LIVE_ONLY).register] == [1]


def test_a_source_instance_turning_unhealthy_is_removed_where_only_live_ones_count():
    dest = [copy_of(inst(1), LIVE_ONLY)]
    changes = plan([inst(1, healthy=False)], dest, LIVE_ONLY)
    assert [i.port for i in changes.deregister] == [1]


def test_fields_the_destination_cannot_hold_do_not_cause_rewrites():
    def stored(instance):  # like Eureka: no weight, no cluster
        return Instance(ip=instance.ip, port=instance.port, metadata=instance.metadata)

    source = [inst(1, weight=3, cluster="east")]
    first = plan(source, [], WAY, stored)
    assert first.register == [Instance("10.0.0.1", 1, metadata=WAY.markers)]
    assert not plan(source, first.register, WAY, stored)
