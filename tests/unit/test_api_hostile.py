"""Every API input answers 2xx or 4xx: bad query parameters are 400s, a cluster in use is a
409 naming its tasks, and generated requests never reach a 500."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncapp.models import Cluster, SyncTask
from tests.support.rows import nacos_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def task():
    return nacos_task()


def test_deleting_a_cluster_in_use_is_a_409_naming_its_tasks(api_client, task):
    answer = api_client.delete(f"/api/clusters/{task.source_id}/")
    assert answer.status_code == 409
    assert answer.json()["tasks"] == [{"id": task.pk, "name": str(task)}]
    assert Cluster.objects.count() == 2


@pytest.mark.parametrize(
    "query",
    [
        "/api/clusters/?limit=2580033593689539287011127459840",
        "/api/clusters/?offset=99999999999999999999",
        "/api/clusters/?limit=-1",
        "/api/services/?task=abc",
        "/api/services/?task=99999999999999999999999",
        "/api/services/?search=a%00b",
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(api_client, task, query):
    answer = api_client.get(query)
    assert answer.status_code == 400
    name = query.split("?")[1].split("=")[0]
    assert name in answer.json()


def test_an_unknown_id_is_a_404(api_client, task):
    for path in ("/api/tasks/999999999999999999999/", "/api/clusters/abc/"):
        assert api_client.get(path).status_code == 404, path


@pytest.mark.parametrize(
    "body, field",
    [
        ({"cluster_name": ""}, "cluster_name"),
        ({"cluster_name": "x" * 100_000}, "cluster_name"),
        ({"cluster_name": "a\nb"}, "cluster_name"),
        ({"connect_keys": ["file:///etc/passwd"]}, "connect_keys"),
        ({"connect_keys": ["127.0.0.1:99999"]}, "connect_keys"),
        ({"connect_keys": ["x\nHost: evil"]}, "connect_keys"),
        ({"connect_keys": []}, "connect_keys"),
        ({"connect_keys": [["h:1"]]}, "connect_keys"),
        ({"connect_keys": [f"h:{i + 1}" for i in range(1000)]}, "connect_keys"),
        ({"namespaces": "n" * 10_000}, "namespaces"),
        ({"cluster_type": "ZOOKEEPER", "connect_keys": ["http://h:8080"]}, "connect_keys"),
    ],
)
def test_a_bad_cluster_is_refused_with_the_field_at_fault(api_client, body, field):
    good = {"cluster_name": "c", "cluster_type": "NACOS", "connect_keys": ["h:8848"]}
    answer = api_client.post("/api/clusters/", {**good, **body}, format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.json()
    assert not Cluster.objects.exists()


def test_the_api_takes_the_connect_keys_each_kind_accepts(api_client):
    for name, kind, key in [
        ("n", "NACOS", "http://nacos.example:8848/nacos"),
        ("e", "EUREKA", "https://user:pw@eureka.example/eureka"),
        ("z", "ZOOKEEPER", "10.0.0.1:2181/dubbo"),
        ("c", "CONSUL", "[::1]:8500"),
    ]:
        body = {"cluster_name": name, "cluster_type": kind, "connect_keys": [key]}
        assert api_client.post("/api/clusters/", body, format="json").status_code == 201, key


@pytest.mark.parametrize(
    "body, field",
    [
        ({"service_match_pattern": ""}, "service_match_pattern"),
        ({"service_match_pattern": "(?=a)b"}, "service_match_pattern"),
        ({"service_match_pattern": "(a)\\1"}, "service_match_pattern"),
        ({"destination": "a"}, "non_field_errors"),
        ({"sync_type": "Config", "destination": "e"}, "destination"),  # Eureka holds no Config
    ],
)
def test_a_bad_task_edit_is_refused_with_the_field_at_fault(api_client, task, body, field):
    Cluster.objects.create(cluster_name="e", cluster_type="EUREKA", connect_keys=["h:3"])
    answer = api_client.patch(f"/api/tasks/{task.pk}/", body, format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.json()
    assert SyncTask.objects.get().service_match_pattern == ".*"


def test_the_schema_documents_the_error_answers(api_client):
    paths = api_client.get("/api/schema/?format=json").json()["paths"]
    assert {"400", "403"} <= set(paths["/api/clusters/"]["post"]["responses"])
    assert {"404", "409"} <= set(paths["/api/clusters/{id}/"]["delete"]["responses"])
    assert "400" in paths["/api/services/"]["get"]["responses"]
    params = {p["name"] for p in paths["/api/services/"]["get"]["parameters"]}
    assert {"task", "search", "limit", "offset"} <= params


# --- generated requests ----------------------------------------------------------------

TEXT = st.text(max_size=40) | st.sampled_from(["", "a", "-1", "1e9", "9" * 40, "\x00", "é"])
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=10,
)
CLUSTER_BODY = st.fixed_dictionaries(
    {},
    optional={
        "cluster_name": JSON,
        "cluster_type": st.sampled_from(["NACOS", "ZOOKEEPER", "EUREKA", "CONSUL", "X"]) | JSON,
        "connect_keys": st.lists(TEXT, max_size=3) | JSON,
        "namespaces": JSON,
        "user_name": JSON,
        "password": JSON,
    },
)
TASK_BODY = st.fixed_dictionaries(
    {},
    optional={
        "source": st.sampled_from(["a", "b"]) | JSON,
        "destination": st.sampled_from(["a", "b"]) | JSON,
        "sync_type": st.sampled_from(["Service", "Config"]) | JSON,
        "mode": st.sampled_from(["Unidirectional", "Bidirectional"]) | JSON,
        "service_match_pattern": TEXT | JSON,
        "auto_scan": JSON,
    },
)
SERVICE_BODY = st.fixed_dictionaries(
    {}, optional={"task": JSON, "service": JSON, "namespace": JSON, "reverse": JSON}
)
LIST_PATHS = st.sampled_from(["/api/clusters/", "/api/tasks/", "/api/services/"])
QUERY = st.dictionaries(st.sampled_from(["limit", "offset", "task", "search", "x"]), TEXT)
ID = st.sampled_from(["1", "2", "0", "abc", "9" * 30, "-1"])
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@FUZZ
@given(path=LIST_PATHS, query=QUERY)
def test_generated_queries_never_answer_500(api_client, task, path, query):
    assert api_client.get(path, query).status_code < 500


@FUZZ
@given(
    target=st.sampled_from(["clusters", "tasks", "services"]),
    method=st.sampled_from(["post", "put", "patch", "delete"]),
    ident=ID,
    cluster=CLUSTER_BODY,
    sync_task=TASK_BODY,
    service=SERVICE_BODY,
)
def test_generated_writes_never_answer_500(
    api_client, task, target, method, ident, cluster, sync_task, service
):
    body = {"clusters": cluster, "tasks": sync_task, "services": service}[target]
    path = f"/api/{target}/" if method == "post" else f"/api/{target}/{ident}/"
    answer = getattr(api_client, method)(path, body, format="json")
    assert answer.status_code < 500, (method, path, body)
