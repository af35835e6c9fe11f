"""Dubbo provider URLs and service names, without ZooKeeper."""

import pytest

from syncapp.registries import dubbo_url
from syncapp.registries.base import Instance

DEMO = "com.foo.DemoService"
PROVIDER = (
    f"dubbo://10.0.0.5:20880/{DEMO}?anyhost=true&application=demo&group=g"
    f"&interface={DEMO}&methods=sayHello,sayBye&release=2.7.8&side=provider"
    "&timestamp=1700000000000&version=1.0.0&weight=100"
)
# What Dubbo's ZookeeperRegistry writes: URLEncoder.encode(url.toFullString(), "UTF-8").
PROVIDER_NODE = (
    "dubbo%3A%2F%2F10.0.0.5%3A20880%2Fcom.foo.DemoService%3Fanyhost%3Dtrue%26application%3Ddemo"
    "%26group%3Dg%26interface%3Dcom.foo.DemoService%26methods%3DsayHello%2CsayBye"
    "%26release%3D2.7.8%26side%3Dprovider%26timestamp%3D1700000000000%26version%3D1.0.0"
    "%26weight%3D100"
)


def test_it_decodes_a_node_written_by_dubbo():
    url = dubbo_url.decode_node(PROVIDER_NODE)
    assert (url.protocol, url.host, url.port, url.path) == ("dubbo", "10.0.0.5", 20880, DEMO)
    assert url.params["methods"] == "sayHello,sayBye"
    assert (url.version, url.group) == ("1.0.0", "g")


def test_it_encodes_a_node_exactly_as_java_does():
    assert dubbo_url.encode_node(dubbo_url.parse_url(PROVIDER)) == PROVIDER_NODE


def test_java_encoding_keeps_star_and_escapes_tilde_and_space():
    assert dubbo_url.java_encode("a*b~c d$e") == "a*b%7Ec+d%24e"


@pytest.mark.parametrize(
    "text, host",
    [
        (f"dubbo://[::1]:20880/{DEMO}?side=provider", "::1"),
        (f"dubbo://[fe80::1:2]:20880/{DEMO}?side=provider", "fe80::1:2"),
        (
            f"tri://provider-7.example.internal:50051/{DEMO}?side=provider",
            "provider-7.example.internal",
        ),
        (f"dubbo://user:secret@10.1.2.3:20880/{DEMO}?side=provider", "10.1.2.3"),
    ],
)
def test_it_parses_ipv6_host_names_and_credentials_and_round_trips(text, host):
    url = dubbo_url.parse_url(text)
    assert url.host == host and url.params == {"side": "provider"}
    assert dubbo_url.decode_node(dubbo_url.encode_node(url)) == url


def test_ipv6_hosts_are_written_in_brackets():
    url = dubbo_url.DubboUrl("dubbo", "::1", 20880, DEMO, {"side": "provider"})
    assert str(url) == f"dubbo://[::1]:20880/{DEMO}?side=provider"


def test_values_with_reserved_characters_survive_the_node_encoding():
    params = {"note": "a b/c:d,e", "zh": "服务", "pct": "100%", "eq": "k=v"}
    url = dubbo_url.DubboUrl("dubbo", "10.0.0.1", 1, DEMO, params)
    assert dubbo_url.decode_node(dubbo_url.encode_node(url)).params == params


def test_a_bare_key_reads_as_its_own_value_like_dubbo_and_an_empty_one_as_empty():
    url = dubbo_url.parse_url(f"dubbo://10.0.0.1:1/{DEMO}?dynamic&version=")
    assert url.params == {"dynamic": "dynamic", "version": ""}
    assert url.version == ""


@pytest.mark.parametrize(
    "parts, name",
    [
        ((DEMO, "", ""), f"providers:{DEMO}::"),
        ((DEMO, "1.0.0", ""), f"providers:{DEMO}:1.0.0:"),
        ((DEMO, "", "g"), f"providers:{DEMO}::g"),
        ((DEMO, "1.0.0", "g"), f"providers:{DEMO}:1.0.0:g"),
    ],
)
def test_service_names_follow_dubbo_nacos_naming_with_empty_parts_kept(parts, name):
    assert dubbo_url.service_name(*parts) == name
    assert dubbo_url.parse_service_name(name) == parts
    assert dubbo_url.is_dubbo_name(name)


@pytest.mark.parametrize("name", [f"providers:{DEMO}", f"providers:{DEMO}:1.0.0", "providers:::"])
def test_legacy_or_empty_dubbo_names_are_refused(name):
    with pytest.raises(ValueError):
        dubbo_url.parse_service_name(name)


def test_other_names_are_not_dubbo():
    assert not dubbo_url.is_dubbo_name("user-service")
    assert not dubbo_url.is_dubbo_name(f"consumers:{DEMO}::")


def test_an_instance_carries_every_parameter_plus_what_dubbo_on_nacos_rebuilds_urls_from():
    instance = dubbo_url.to_instance(dubbo_url.parse_url(PROVIDER))
    assert (instance.ip, instance.port, instance.weight, instance.cluster) == (
        "10.0.0.5",
        20880,
        1.0,
        "DEFAULT",
    )
    assert instance.metadata == {
        **dubbo_url.parse_url(PROVIDER).params,
        "protocol": "dubbo",
        "path": DEMO,
        "category": "providers",
    }


def test_the_weight_parameter_maps_to_a_hundredth():
    url = dubbo_url.parse_url(f"dubbo://10.0.0.1:1/{DEMO}?weight=250")
    assert dubbo_url.to_instance(url).weight == 2.5
    no_weight = dubbo_url.parse_url(f"dubbo://10.0.0.1:1/{DEMO}")
    assert dubbo_url.to_instance(no_weight).weight == 1.0


def test_an_instance_read_from_a_url_rebuilds_the_same_url_minus_implied_category():
    url = dubbo_url.parse_url(PROVIDER)
    name = dubbo_url.service_name(DEMO, url.version, url.group)
    assert dubbo_url.from_instance(name, dubbo_url.to_instance(url)) == url


def test_an_instance_round_trips_with_markers_weight_and_cluster():
    name = dubbo_url.service_name(DEMO, "2.0", "")
    markers = {"sourceClusterId": "nacos-a", "sync.instance.tag": "nacos-a@@7"}
    instance = Instance("fd00::7", 20880, weight=3.0, cluster="east", metadata=markers)
    url = dubbo_url.from_instance(name, instance)
    assert url.params["weight"] == "300" and url.params["version"] == "2.0"
    assert "group" not in url.params and url.params["msesync.cluster"] == "east"
    back = dubbo_url.to_instance(dubbo_url.decode_node(dubbo_url.encode_node(url)))
    assert (back.ip, back.port, back.weight, back.cluster) == ("fd00::7", 20880, 3.0, "east")
    assert back.metadata == {
        **markers,
        "interface": DEMO,
        "version": "2.0",
        "weight": "300",
        "protocol": "dubbo",
        "path": DEMO,
        "category": "providers",
    }
    # Written again, the read-back instance gives the very same node: no rewrite churn.
    assert dubbo_url.from_instance(name, back) == url


def test_the_name_decides_version_and_group_and_empty_values_are_not_written():
    instance = Instance("10.0.0.1", 1, metadata={"version": "9", "group": "x", "blank": ""})
    url = dubbo_url.from_instance(dubbo_url.service_name(DEMO, "1.0", ""), instance)
    assert url.version == "1.0" and "group" not in url.params and "blank" not in url.params


def test_a_value_dubbo_cannot_carry_is_refused():
    with pytest.raises(ValueError):
        dubbo_url.from_instance(
            dubbo_url.service_name(DEMO), Instance("10.0.0.1", 1, metadata={"q": "a&b"})
        )


@pytest.mark.parametrize(
    "version, group, consumed",
    [
        ("1.0.0", "", True),
        ("*", "", True),
        ("2.0.0", "", False),
        ("1.0.0", "blue", False),
        ("1.0.0", "blue,", True),  # a list of groups, the empty one among them
        ("1.0.0", "*", True),
    ],
)
def test_a_consumer_asks_for_a_version_and_group_as_dubbo_matches_them(version, group, consumed):
    params = f"interface=a.B&version={version}" + (f"&group={group}" if group else "")
    consumer = dubbo_url.decode_consumer(dubbo_url.java_encode(f"consumer://10.0.0.9/a.B?{params}"))
    assert dubbo_url.consumes(consumer, "1.0.0", "") == consumed


def test_consumer_nodes_parse_without_a_port_and_with_one():
    assert (
        dubbo_url.decode_consumer("consumer%3A%2F%2F10.0.0.9%2Fa.B%3Fversion%3D1").host
        == "10.0.0.9"
    )
    assert dubbo_url.decode_consumer("consumer%3A%2F%2F10.0.0.9%3A7%2Fa.B").port == 7
    assert dubbo_url.decode_consumer("consumer%3A%2F%2F%5B%3A%3A1%5D%2Fa.B").host == "::1"
    with pytest.raises(ValueError):
        dubbo_url.decode_node("consumer%3A%2F%2F10.0.0.9%2Fa.B")  # providers need a port
