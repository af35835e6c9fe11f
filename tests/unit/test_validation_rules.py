"""One set of rules: the API, the console's cluster form, the admin's and the importer refuse
(and accept) the same values; patterns run under RE2."""

import time

import pytest

from syncapp import patterns
from syncapp.admin import ClusterForm as AdminClusterForm
from syncapp.importer import ConfigError, parse_config
from syncapp.jobs import list_matching
from syncapp.registries.base import RegistryError
from syncapp.ui.forms import ClusterForm as ConsoleClusterForm

pytestmark = pytest.mark.django_db
GOOD = {"cluster_name": "c", "cluster_type": "NACOS", "connect_keys": ["h:8848"]}

BAD = {
    "empty name": {"cluster_name": ""},
    "spaces name": {"cluster_name": "   "},
    "control character in name": {"cluster_name": "a\x1bb"},
    "name over 128": {"cluster_name": "n" * 129},
    "file URL": {"connect_keys": ["file:///etc/passwd"]},
    "port out of range": {"connect_keys": ["127.0.0.1:99999"]},
    "no port": {"cluster_type": "ZOOKEEPER", "connect_keys": ["zk"]},
    "URL for ZooKeeper": {"cluster_type": "ZOOKEEPER", "connect_keys": ["http://zk:2181"]},
    "33 keys": {"connect_keys": [f"h:{i + 1}" for i in range(33)]},
    "namespace over 512": {"namespaces": "n" * 513},
    "empty namespace between commas": {"namespaces": "public,,test"},
}
GOOD_KEYS = {
    "NACOS": "http://nacos:8848/nacos",
    "EUREKA": "https://user:pw@eureka/eureka",
    "ZOOKEEPER": "10.0.0.1:2181/chroot",
    "CONSUL": "[::1]:8500",
}


def api_refuses(api_client, values) -> bool:
    return api_client.post("/api/clusters/", values, format="json").status_code == 400


def form_refuses(form_class, values) -> bool:
    data = {**values, "connect_keys": "\n".join(values["connect_keys"])}
    if form_class is AdminClusterForm:
        data["connect_keys"] = str(values["connect_keys"]).replace("'", '"')
    return not form_class(data).is_valid()


def importer_refuses(values) -> bool:
    keys = ", ".join(f'"{k}"' for k in values["connect_keys"])
    text = (
        f"clusters:\n  - clusterName: {values['cluster_name']!r}\n"
        f"    clusterType: {values['cluster_type']}\n    connectKeyList: [{keys}]\n"
    )
    if values.get("namespaces"):
        text += f"    namespace: {values['namespaces']!r}\n"
    text = text.replace("\x1b", "\\e").replace("'", '"')
    try:
        parse_config(text)
    except ConfigError:
        return True
    return False


@pytest.mark.parametrize("case", BAD)
def test_every_way_in_refuses_the_same_bad_cluster(api_client, case):
    values = {**GOOD, **BAD[case]}
    assert api_refuses(api_client, values)
    assert form_refuses(ConsoleClusterForm, values)
    assert form_refuses(AdminClusterForm, values)
    assert importer_refuses(values)


@pytest.mark.parametrize("kind", GOOD_KEYS)
def test_every_way_in_accepts_the_connect_keys_of_each_kind(api_client, kind):
    values = {**GOOD, "cluster_type": kind, "connect_keys": [GOOD_KEYS[kind]]}
    assert not form_refuses(ConsoleClusterForm, values)
    assert not form_refuses(AdminClusterForm, values)
    assert not importer_refuses(values)
    assert not api_refuses(api_client, values)


def test_a_catastrophic_backtracking_pattern_runs_in_linear_time():
    started = time.monotonic()
    assert not patterns.fullmatch("(a+)+$", "a" * 50_000 + "b")
    assert time.monotonic() - started < 1


def test_re2_refusals_say_why():
    with pytest.raises(patterns.PatternError, match="no lookaround"):
        patterns.compile("(?!internal).*")
    with pytest.raises(patterns.PatternError, match="missing \\]"):
        patterns.compile("([")


def test_a_stored_pattern_re2_refuses_fails_the_scan_instead_of_matching_nothing():
    class Source:
        def namespaces(self):
            return ["public"]

        def list_services(self, namespace):
            return []

    with pytest.raises(RegistryError, match="serviceMatchPattern"):
        list_matching(Source(), "(a)\\1")
    assert not patterns.fullmatch("(a)\\1", "aa"), "a change feed skips it, never crashes"
