"""A registry's refusal reaches the row with its reason; what a registry accepts arrives whole.

Nacos 3 refuses metadata values over 1,024 characters, Consul over 512; r-nacos and Eureka
take 4 KB ones.
The copies into Nacos are held by the keeper (in-process here), as in the product.
"""

import uuid

import pytest

from syncapp import jobs
from syncapp.connections import forget_all
from syncapp.keeper import Keeper
from syncapp.membership import Membership
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries import registry_class
from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def closed_adapters():
    yield
    forget_all()


def task_between(source_kind, source_address, dest_kind, dest_address) -> SyncTask:
    tag = uuid.uuid4().hex[:6]
    source = Cluster.objects.create(
        cluster_name=f"src-{tag}", cluster_type=source_kind, connect_keys=[source_address]
    )
    dest = Cluster.objects.create(
        cluster_name=f"dst-{tag}", cluster_type=dest_kind, connect_keys=[dest_address]
    )
    return SyncTask.objects.create(
        source=source, destination=dest, service_match_pattern=f"(?i)meta-{tag}"
    )


def name_of(task: SyncTask) -> str:
    return task.service_match_pattern.removeprefix("(?i)")


def key_at(kind: str, name: str) -> ServiceKey:
    return (
        ServiceKey("public", "DEFAULT_GROUP", name) if kind == "NACOS" else ServiceKey("", "", name)
    )


def sync_with_keeper(task: SyncTask) -> None:
    keeper = Keeper(Membership("n1"), heartbeat_interval=5, reload_every=0)
    keeper.apply_changes()
    for row_id in jobs.scan_task(task.pk):
        jobs.sync_service(row_id)
    keeper.apply_changes()
    keeper.renew_round()


def source_app(kind: str, address: str, task: SyncTask, value: str):
    app = registry_class(kind)(ClusterConfig("app", kind, (address,)))
    key = key_at(kind, name_of(task))
    app.register(key, Instance("10.77.0.1", 8080, metadata={"big": value}))
    wait_until(lambda: app.list_instances(key), 10)
    return app


def test_nacos_refusing_a_long_metadata_value_is_shown_on_the_row_with_its_reason(nacos, nacos_alt):
    task = task_between("NACOS", nacos_alt, "NACOS", nacos)
    app = source_app("NACOS", nacos_alt, task, "x" * 1500)
    try:
        sync_with_keeper(task)
        row = ServiceSync.objects.get(task=task)
        assert "Param 'Metadata' is illegal" in row.last_error
        assert "1024" in row.last_error and row.last_error_at
    finally:
        app.close()


def test_consul_refusing_a_4kb_metadata_value_is_shown_on_the_row_with_its_reason(
    nacos_alt, consul
):
    task = task_between("NACOS", nacos_alt, "CONSUL", consul)
    app = source_app("NACOS", nacos_alt, task, "y" * 4096)
    try:
        sync_with_keeper(task)
        row = ServiceSync.objects.get(task=task)
        assert "Value is too long (limit: 512 characters)" in row.last_error
    finally:
        app.close()


@pytest.mark.parametrize(
    ("source", "dest"),
    [("EUREKA", "NACOS"), ("NACOS", "EUREKA")],
    ids=["into-r-nacos", "into-eureka"],
)
def test_a_4kb_metadata_value_reaches_a_registry_that_takes_it(
    request, nacos_alt, eureka, source, dest
):
    address = {"NACOS": nacos_alt, "EUREKA": eureka}
    task = task_between(source, address[source], dest, address[dest])
    app = source_app(source, address[source], task, "y" * 4096)
    reader = registry_class(dest)(ClusterConfig("reader", dest, (address[dest],)))
    target = key_at(dest, name_of(task))
    try:
        sync_with_keeper(task)
        wait_until(lambda: reader.list_instances(target), 10)
        [copy] = reader.list_instances(target)
        assert copy.metadata["big"] == "y" * 4096
        assert ServiceSync.objects.get(task=task).last_error == ""
    finally:
        app.close()
        reader.close()
