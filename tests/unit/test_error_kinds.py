"""Issue 13: a failure's kind is decided where it happens. Adapters raise Unreachable (no
answer) or Refused (the registry said no); error_kind names it; rows and tasks store it with
their last error, and a success clears it. The real servers: tests/integration/
test_error_kinds.py."""

import queue
import socket
from types import SimpleNamespace

import consul
import grpc
import pytest
from kazoo import exceptions as zk
from kazoo.handlers.threading import KazooTimeoutError

from syncapp import config_jobs, jobs
from syncapp.keeper import Keeper
from syncapp.membership import Membership
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import (
    ClusterConfig,
    ConfigItem,
    ConfigKey,
    Instance,
    Refused,
    RegistryError,
    ServiceKey,
    Unreachable,
    error_kind,
)
from syncapp.registries.consul import answer_error
from syncapp.registries.eureka import EurekaRegistry
from syncapp.registries.http import HttpClient
from syncapp.registries.memory import MemoryRegistry
from syncapp.registries.nacos.grpc_conn import (
    GrpcConnection,
    GrpcRefused,
    GrpcUnreachable,
    Link,
    NacosGrpcError,
)
from syncapp.registries.nacos.http_api import NacosHttp, NotServed
from syncapp.registries.zookeeper import kazoo_error
from syncapp.status import all_status
from tests.support.memory_tasks import memory_task
from tests.unit.test_jobs_memory import register

pytestmark = pytest.mark.usefixtures("fresh_memory")
SERVICE = ServiceKey("public", "DEFAULT_GROUP", "orders")
DB = pytest.mark.django_db


def boom(*args):
    raise ValueError("boom")


# --- the kinds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (Unreachable("x"), "unreachable"),
        (Refused("x"), "rejected"),
        (RegistryError("x"), "other"),
        (ValueError("x"), "internal"),
        (KeyError("x"), "internal"),
        (GrpcUnreachable("x"), "unreachable"),
        (GrpcRefused("x"), "rejected"),
        (NotServed("x"), "rejected"),
    ],
)
def test_error_kind_follows_the_type_raised(exc, kind):
    assert error_kind(exc) == kind


def test_nacos_subclasses_stay_what_their_callers_catch():
    # The gRPC probe falls back to HTTP on any NacosGrpcError; first_served on NotServed.
    assert issubclass(GrpcUnreachable, NacosGrpcError) and issubclass(GrpcRefused, NacosGrpcError)
    assert issubclass(NotServed, RegistryError)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_http_with_no_server_answering_is_unreachable():
    client = HttpClient([f"127.0.0.1:{closed_port()}"])
    with pytest.raises(Unreachable, match="unreachable .*ConnectionError"):
        client.request("GET", "/x", timeout=2)
    client.close()


def answering(status: int, text: str):
    return lambda *args, **kwargs: SimpleNamespace(status_code=status, text=text)


def test_an_eureka_error_status_is_refused_with_the_servers_words(monkeypatch):
    registry = EurekaRegistry(ClusterConfig("e", "EUREKA", ("127.0.0.1:1",)))
    monkeypatch.setattr(registry.http, "request", answering(500, "boom: disk full"))
    with pytest.raises(Refused, match="HTTP 500 boom: disk full"):
        registry.list_services("")


@pytest.mark.parametrize(
    ("status", "raised"), [(403, Refused), (500, Refused), (404, NotServed), (410, NotServed)]
)
def test_a_nacos_http_error_status_is_refused_with_its_reason(monkeypatch, status, raised):
    nacos = NacosHttp(ClusterConfig("n", "NACOS", ("127.0.0.1:1",)))
    monkeypatch.setattr(nacos.http, "request", answering(status, "caused: param illegal"))
    with pytest.raises(raised, match=f"HTTP {status} caused: param illegal"):
        nacos.call("GET", "/v1/ns/instance/list")


def test_a_nacos_answer_that_is_not_json_is_of_no_known_kind(monkeypatch):
    nacos = NacosHttp(ClusterConfig("n", "NACOS", ("127.0.0.1:1",)))
    monkeypatch.setattr(nacos.http, "request", answering(200, "<html>"))
    with pytest.raises(RegistryError) as raised:
        nacos.json("GET", "/v1/ns/catalog/services")
    assert error_kind(raised.value) == "other"


class StatusError(grpc.RpcError):
    def __init__(self, code):
        self._code = code

    def code(self):
        return self._code


def link_failing_with(code) -> Link:
    def unary(*args, **kwargs):
        raise StatusError(code)

    return Link(None, unary, queue.Queue(), "c1")


@pytest.mark.parametrize(
    ("code", "raised"),
    [
        (grpc.StatusCode.UNAVAILABLE, GrpcUnreachable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, GrpcUnreachable),
        (grpc.StatusCode.CANCELLED, GrpcUnreachable),
        (grpc.StatusCode.UNIMPLEMENTED, GrpcRefused),
        (grpc.StatusCode.UNAUTHENTICATED, GrpcRefused),
    ],
)
def test_a_grpc_status_is_unreachable_only_when_no_answer_came(code, raised):
    conn = GrpcConnection("127.0.0.1:1")
    with pytest.raises(raised, match=code.name):
        conn._call(link_failing_with(code), "ServiceQueryRequest", {}, 1.0)


def test_a_nacos_grpc_error_response_is_refused_with_its_code_and_message(monkeypatch):
    conn = GrpcConnection("127.0.0.1:1")
    monkeypatch.setattr(conn, "link", lambda: None)
    answer = {"resultCode": 500, "errorCode": 21009, "message": "metadata too long"}
    monkeypatch.setattr(conn, "_call", lambda *args: ("ErrorResponse", answer))
    with pytest.raises(GrpcRefused, match=r"refused \(21009\): metadata too long"):
        conn.request("BatchInstanceRequest", {})


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (zk.ConnectionLoss(), Unreachable),
        (zk.SessionExpiredError(), Unreachable),
        (zk.ConnectionClosedError("closed"), Unreachable),
        (zk.OperationTimeoutError(), Unreachable),
        (KazooTimeoutError("Connection time-out"), Unreachable),
        (zk.NoAuthError(), Refused),
        (zk.NoNodeError(), Refused),
        (zk.BadVersionError(), Refused),
        (zk.CancelledError(), RegistryError),
    ],
)
def test_a_kazoo_failure_keeps_its_kind(error, raised):
    typed = kazoo_error("ZooKeeper h:1: get /x", error)
    assert type(typed) is raised and str(typed) == "ZooKeeper h:1: get /x"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (consul.ConsulException("500 Value is too long (limit: 512 characters)"), "rejected"),
        (consul.exceptions.ACLPermissionDenied("Permission denied"), "rejected"),
        (consul.exceptions.BadRequest("400 Invalid service"), "rejected"),
        (consul.ConsulException("Failed to decode JSON: <html> ..."), "other"),
    ],
)
def test_a_consul_answer_error_is_a_refusal_when_it_carries_a_status(error, kind):
    assert error_kind(answer_error(error)) == kind


def test_the_memory_registry_models_an_outage_and_a_refusal():
    registry = MemoryRegistry(ClusterConfig("m", "MEMORY", ("m",)))
    memory.store("m").fail_reads = True
    with pytest.raises(Unreachable):
        registry.list_services("public")
    memory.store("m").fail_writes = True
    with pytest.raises(Unreachable):
        registry.heartbeat(SERVICE, Instance("10.0.0.1", 1))
    memory.store("m").fail_writes, memory.store("m").refuse_writes = False, "too long"
    with pytest.raises(Refused, match="too long"):
        registry.heartbeat(SERVICE, Instance("10.0.0.1", 1))


# --- stored with the error ---------------------------------------------------------------


def kinds_of_rows() -> set[tuple[str, str]]:
    return set(ServiceSync.objects.values_list("last_error", "error_kind"))


@DB
def test_a_job_stores_its_failures_kind_and_a_success_clears_it(monkeypatch):
    task = memory_task([SERVICE])
    [row_id] = jobs.scan_task(task.pk)
    memory.store("a").fail_reads = True
    jobs.sync_service(row_id)
    assert kinds_of_rows() == {("a is down", "unreachable")}
    memory.store("a").fail_reads = False
    with monkeypatch.context() as patched:
        patched.setattr(MemoryRegistry, "register", lambda *a: _refuse("HTTP 400 no"))
        jobs.sync_service(row_id)
    assert kinds_of_rows() == {("HTTP 400 no", "rejected")}
    with monkeypatch.context() as patched:
        patched.setattr(MemoryRegistry, "list_instances", boom)
        jobs.sync_service(row_id)
    assert kinds_of_rows() == {("internal error: ValueError: boom", "internal")}
    jobs.sync_service(row_id)
    assert kinds_of_rows() == {("", "")}


@DB
def test_a_scan_stores_the_first_failing_ways_kind(monkeypatch):
    task = memory_task([SERVICE])
    SyncTask.objects.filter(pk=task.pk).update(mode=SyncTask.BIDIRECTIONAL)
    memory.store("a").fail_reads = True  # the forward way cannot list its source
    original = MemoryRegistry.list_services
    monkeypatch.setattr(  # the way back finds a bug of ours
        MemoryRegistry,
        "list_services",
        lambda self, ns: boom() if self.config.name == "b" else original(self, ns),
    )
    jobs.scan_task(task.pk)
    failed = SyncTask.objects.get()
    assert failed.last_error.splitlines() == [
        "a -> b: a is down",
        "b -> a: internal error: ValueError: boom",
    ]
    assert failed.error_kind == "unreachable"
    memory.store("a").fail_reads = False  # now only the way back fails
    jobs.scan_task(task.pk)
    assert SyncTask.objects.get().error_kind == "internal"
    monkeypatch.setattr(MemoryRegistry, "list_services", original)
    jobs.scan_task(task.pk)
    assert SyncTask.objects.values_list("last_error", "error_kind").get() == ("", "")


@DB
def test_a_keepers_failed_holds_store_their_kind_and_a_job_keeps_it():
    task = held_task()
    register("a", SERVICE, 1, 2)
    for row_id in jobs.scan_task(task.pk):
        jobs.sync_service(row_id)
    keeper = Keeper(Membership("n1"), heartbeat_interval=5, reload_every=0)
    keeper.membership.nodes = ("n1",)
    keeper.renew_round()
    memory.store("b").refuse_writes = "Param 'Metadata' is illegal"
    register("a", SERVICE, 3)
    row_id = ServiceSync.objects.get().pk
    jobs.sync_service(row_id)
    keeper.apply_changes()
    row = ServiceSync.objects.get()
    assert row.error_kind == "rejected" and "is illegal" in row.last_error
    memory.store("b").refuse_writes = ""
    memory.store("b").connection_lost = True
    keeper.renew_round()
    memory.store("b").services.clear()  # the destination dropped the connection's copies
    row = ServiceSync.objects.get()
    assert row.last_error.startswith("keeping copies at b: unreachable")
    assert row.error_kind == "unreachable"
    jobs.sync_service(row_id, force=True)  # finds copies missing: the keeper's error stays
    assert ServiceSync.objects.values_list("last_error", "error_kind").get() == (
        row.last_error,
        "unreachable",
    )
    memory.store("b").connection_lost = False
    keeper.renew_round()
    assert kinds_of_rows() == {("", "")}


@DB
def test_failed_lease_renewals_store_their_kind():
    a = Cluster.objects.create(cluster_name="a", cluster_type="MEMORY", connect_keys=["m"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY", connect_keys=["m"])
    task = SyncTask.objects.create(source=a, destination=b)
    register("a", SERVICE, 1)
    for row_id in jobs.scan_task(task.pk):
        jobs.sync_service(row_id)
    keeper = Keeper(Membership("n1"), heartbeat_interval=5, reload_every=0)
    keeper.membership.nodes = ("n1",)
    memory.store("b").fail_writes = True
    keeper.renew_round()
    assert kinds_of_rows() == {("keeping copies at b: b is down", "unreachable")}
    memory.store("b").fail_writes = False
    keeper.renew_round()
    assert kinds_of_rows() == {("", "")}


@DB
def test_a_config_pass_stores_its_failures_kind(monkeypatch):
    a = Cluster.objects.create(cluster_name="a", cluster_type="MEMORY", connect_keys=["m"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY", connect_keys=["m"])
    task = SyncTask.objects.create(source=a, destination=b, sync_type=SyncTask.CONFIG)
    key = ConfigKey("public", "DEFAULT_GROUP", "app.yaml")
    memory.store("a").configs[key] = ConfigItem(key, "x: 1")
    memory.store("a").fail_reads = True
    config_jobs.sync_configs(task.pk)
    assert SyncTask.objects.get().error_kind == "unreachable"
    memory.store("a").fail_reads = False
    with monkeypatch.context() as patched:  # one config's write refused: the pass goes on
        patched.setattr(MemoryRegistry, "write_config_item", lambda *a, **k: _refuse("no"))
        config_jobs.sync_configs(task.pk)
    assert SyncTask.objects.values_list("last_error", "error_kind").get() == (
        f"{key}: no",
        "rejected",
    )
    config_jobs.sync_configs(task.pk)
    assert SyncTask.objects.values_list("last_error", "error_kind").get() == ("", "")


@DB
def test_the_api_and_sync_status_carry_the_kind_next_to_the_error(api_client):
    task = memory_task([SERVICE])
    [row_id] = jobs.scan_task(task.pk)
    memory.store("a").fail_reads = True
    jobs.sync_service(row_id)
    jobs.scan_task(task.pk)
    [service] = api_client.get(f"/api/services/?task={task.pk}").json()["results"]
    assert (service["last_error"], service["error_kind"]) == ("a is down", "unreachable")
    shown = api_client.get(f"/api/tasks/{task.pk}/").json()
    assert (shown["last_error"], shown["error_kind"]) == ("a -> b: a is down", "unreachable")
    [status] = all_status()
    assert status["error_kind"] == "unreachable"
    assert status["services"][0]["error_kind"] == "unreachable"


def _refuse(reason: str):
    raise Refused(reason)


def held_task() -> SyncTask:
    a = Cluster.objects.create(cluster_name="a", cluster_type="MEMORY", connect_keys=["m"])
    b = Cluster.objects.create(cluster_name="b", cluster_type="MEMORY_HELD", connect_keys=["m"])
    return SyncTask.objects.create(source=a, destination=b)
