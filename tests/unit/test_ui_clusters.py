"""The console's Clusters: add, edit with write-only secrets, test, services -> new task."""

import re

import pytest

from syncapp.models import Cluster, SyncTask
from syncapp.registries import memory
from syncapp.registries.base import Instance, ServiceKey
from syncapp.ui.discovery import pattern_for

pytestmark = pytest.mark.django_db
SECRETS = {"password": "pw-secret-1", "ak": "ak-secret-2", "sk": "sk-secret-3"}
NAMES = ["orders", "pay.v1", "users"]


def hold(cluster_name: str, names: list[str]) -> None:
    """One live instance for each service name, at a memory cluster."""
    instance = Instance("10.0.0.1", 1)
    for name in names:
        key = ServiceKey("public", "DEFAULT_GROUP", name)
        memory.store(cluster_name).services[key] = {instance.key: instance}


@pytest.fixture
def src(fresh_memory):
    """A memory-registry cluster holding three services (MEMORY is for tests: made directly)."""
    cluster = Cluster.objects.create(
        cluster_name="m-src", cluster_type="MEMORY", connect_keys=["m"]
    )
    hold("m-src", NAMES)
    return cluster


@pytest.fixture
def dst():
    return Cluster.objects.create(cluster_name="m-dst", cluster_type="MEMORY", connect_keys=["m"])


def form_data(cluster: Cluster, **changes) -> dict:
    data = {
        "cluster_name": cluster.cluster_name,
        "cluster_type": "NACOS",
        "connect_keys": "\n".join(cluster.connect_keys),
        "namespaces": cluster.namespaces,
        "user_name": cluster.user_name,
        "password": "",
        "ak": "",
        "sk": "",
    }
    return {**data, **changes}


def test_add_a_cluster(console):
    response = console.post(
        "/clusters/add/",
        {
            "cluster_name": "new",
            "cluster_type": "NACOS",
            "connect_keys": "10.0.0.1:8848, 10.0.0.2:8848\n10.0.0.3:8848",
            "namespaces": "public,test",
            "password": "pw",
        },
    )
    assert response.status_code == 302 and response.url == "/clusters/"
    made = Cluster.objects.get(cluster_name="new")
    assert made.connect_keys == ["10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8848"]
    assert made.password == "pw"
    listing = console.get("/clusters/").content.decode()
    assert "10.0.0.1:8848, 10.0.0.2:8848" in listing and "pw" not in listing.split("<main>")[1]


def test_add_refuses_a_cluster_without_address_or_with_an_unknown_type(console):
    body = console.post(
        "/clusters/add/", {"cluster_name": "x", "cluster_type": "ETCD", "connect_keys": " , "}
    ).content.decode()
    assert "at least one host:port" in body and "ETCD is not one of the available choices" in body
    assert not Cluster.objects.exists()


def test_edit_never_renders_secrets_and_keeps_them_when_left_empty(console):
    cluster = Cluster.objects.create(
        cluster_name="c", cluster_type="NACOS", connect_keys=["h:1"], user_name="nacos", **SECRETS
    )
    page = console.get(f"/clusters/{cluster.pk}/").content.decode()
    assert 'value="nacos"' in page and "h:1" in page
    for secret in SECRETS.values():
        assert secret not in page
    assert 'type="password" name="password"' in page

    response = console.post(f"/clusters/{cluster.pk}/", form_data(cluster, connect_keys="h:9"))
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.connect_keys == ["h:9"]
    assert {k: getattr(cluster, k) for k in SECRETS} == SECRETS

    console.post(f"/clusters/{cluster.pk}/", form_data(cluster, ak="ak-new"))
    cluster.refresh_from_db()
    assert (cluster.password, cluster.ak, cluster.sk) == ("pw-secret-1", "ak-new", "sk-secret-3")


def test_an_invalid_edit_does_not_echo_the_secret_typed(console):
    cluster = Cluster.objects.create(cluster_name="c", cluster_type="NACOS", connect_keys=["h:1"])
    body = console.post(
        f"/clusters/{cluster.pk}/", form_data(cluster, connect_keys="", password="typed-pw")
    ).content.decode()
    assert "This field is required" in body and "typed-pw" not in body


def test_test_connection_shows_ok_with_what_it_found(console, src):
    page = console.post(f"/clusters/{src.pk}/test/", follow=True).content.decode()
    assert "m-src: connected; 1 namespace(s), 3 service(s)." in page


def test_test_connection_shows_the_error(console, src):
    memory.store("m-src").fail_reads = True
    page = console.post(f"/clusters/{src.pk}/test/", follow=True).content.decode()
    assert "m-src: unreachable: m-src is down" in page  # the kind, as /metrics names it


def test_test_connection_of_an_unreachable_nacos_shows_the_error(console):
    cluster = Cluster.objects.create(
        cluster_name="gone", cluster_type="NACOS", connect_keys=["127.0.0.1:1"]
    )
    page = console.post(f"/clusters/{cluster.pk}/test/", follow=True).content.decode()
    assert 'class="error"' in page and "gone:" in page


def test_services_page_lists_what_the_cluster_holds_with_checkboxes(console, src, dst):
    page = console.get(f"/clusters/{src.pk}/services/").content.decode()
    for name in NAMES:
        assert f'name="services" value="{name}"' in page
    assert "m-dst" in page and "3 services in" in page


def test_one_click_takes_every_service(console, src, dst):
    response = console.post(
        f"/clusters/{src.pk}/services/",
        {"destination": dst.pk, "mode": "Unidirectional", "scope": "all"},
    )
    made = SyncTask.objects.get()
    assert response.url == f"/tasks/{made.pk}/"
    assert (made.source, made.destination, made.service_match_pattern) == (src, dst, ".*")
    assert made.auto_scan and made.sync_type == "Service"


def test_a_chosen_few_make_an_exact_pattern(console, src, dst):
    console.post(
        f"/clusters/{src.pk}/services/",
        {
            "destination": dst.pk,
            "mode": "Bidirectional",
            "scope": "selected",
            "services": ["pay.v1", "orders"],
        },
    )
    made = SyncTask.objects.get()
    assert made.service_match_pattern == r"^(?:orders|pay\.v1)$"
    assert made.mode == "Bidirectional"


def test_selected_without_a_choice_or_a_second_task_for_the_pair_is_refused(console, src, dst):
    url = f"/clusters/{src.pk}/services/"
    base = {"destination": dst.pk, "mode": "Unidirectional"}
    body = console.post(url, {**base, "scope": "selected"}).content.decode()
    assert "select at least one service" in body and not SyncTask.objects.exists()
    console.post(url, {**base, "scope": "all"})
    again = console.post(url, {**base, "scope": "all"}).content.decode()
    assert "exists already" in again and SyncTask.objects.count() == 1


def test_a_source_cannot_be_its_own_destination(console, src):
    body = console.post(
        f"/clusters/{src.pk}/services/",
        {"destination": src.pk, "mode": "Unidirectional", "scope": "all"},
    ).content.decode()
    assert "Select a valid choice" in body and not SyncTask.objects.exists()


def test_pattern_for_matches_exactly_the_names_chosen():
    pattern = re.compile(pattern_for(["pay.v1", "a|b", "orders"]))
    assert all(pattern.fullmatch(n) for n in ["pay.v1", "a|b", "orders"])
    assert not any(pattern.fullmatch(n) for n in ["payxv1", "a", "orders-2", "xorders"])
    assert not pattern.search("my-orders")
    assert pattern_for([]) == ".*"


def test_too_many_names_for_the_pattern_column_are_refused_with_a_way_out(console, src, dst):
    many = [f"service-number-{n:03}" for n in range(40)]
    hold("m-src", many)
    body = console.post(
        f"/clusters/{src.pk}/services/",
        {"destination": dst.pk, "mode": "Unidirectional", "scope": "selected", "services": many},
    ).content.decode()
    assert "choose fewer, or write a pattern in Import Config" in body
    assert not SyncTask.objects.exists()


def test_the_add_form_starts_with_an_empty_address_box(console):
    body = console.get("/clusters/add/").content.decode()
    box = re.search(r'<textarea name="connect_keys"[^>]*>(.*?)</textarea>', body, re.S)
    assert box and box.group(1).strip() == ""


def test_delete_a_cluster_no_task_uses(console, dst):
    response = console.post(f"/clusters/{dst.pk}/delete/")
    assert response.status_code == 302 and not Cluster.objects.filter(pk=dst.pk).exists()
    assert "Cluster m-dst: deleted." in console.get("/clusters/").content.decode()


def test_delete_of_a_cluster_in_use_is_refused_and_changes_nothing(console, src, dst):
    SyncTask.objects.create(source=src, destination=dst)
    console.post(f"/clusters/{dst.pk}/delete/")
    assert Cluster.objects.filter(pk=dst.pk).exists() and SyncTask.objects.count() == 1
    body = console.get("/clusters/").content.decode()
    assert "m-dst is used by 1 task(s): m-src -&gt; m-dst (Service). Delete those first" in body


def test_only_admins_see_or_use_cluster_delete(client, user_with_role, dst):
    client.force_login(user_with_role("operator", "op"))
    assert b"/delete/" not in client.get("/clusters/").content
    assert client.post(f"/clusters/{dst.pk}/delete/").status_code == 403
    assert Cluster.objects.filter(pk=dst.pk).exists()
