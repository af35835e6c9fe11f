"""Service names and places across registry kinds."""

from syncapp.engine import Direction
from syncapp.engine.naming import dest_service_key
from syncapp.registries.base import ServiceKey


def way(source_kind, dest_kind, keep_case=False):
    return Direction(1, "s", "d", source_kind, dest_kind, keep_case=keep_case)


def test_eureka_names_are_lower_cased_into_nacos_in_public_and_the_default_group():
    key = dest_service_key(ServiceKey("", "", "ORDER-SERVICE"), way("EUREKA", "NACOS"))
    assert key == ServiceKey("public", "DEFAULT_GROUP", "order-service")


def test_a_task_can_keep_eurekas_case():
    key = dest_service_key(ServiceKey("", "", "ORDER-SERVICE"), way("EUREKA", "NACOS", True))
    assert key.name == "ORDER-SERVICE"


def test_nacos_keeps_namespace_and_group_between_nacos_clusters():
    source = ServiceKey("test", "G2", "Orders")
    assert dest_service_key(source, way("NACOS", "NACOS")) == source


def test_namespaces_and_groups_are_dropped_where_the_destination_has_none():
    key = dest_service_key(ServiceKey("test", "G2", "orders"), way("NACOS", "CONSUL"))
    assert key == ServiceKey("", "", "orders")


def test_dubbo_names_pass_through_unchanged():
    name = "providers:com.foo.DemoService:1.0.0:"
    key = dest_service_key(ServiceKey("", "", name), way("ZOOKEEPER", "NACOS"))
    assert key == ServiceKey("public", "DEFAULT_GROUP", name)


def into(dest_namespace, source_kind="ZOOKEEPER", dest_kind="NACOS"):
    return Direction(1, "s", "d", source_kind, dest_kind, dest_namespace=dest_namespace)


def test_a_service_without_a_namespace_lands_in_the_destinations_configured_one():
    name = "providers:com.foo.DemoService:1.0.0:"
    key = dest_service_key(ServiceKey("", "", name), into("dev"))
    assert key == ServiceKey("dev", "DEFAULT_GROUP", name)


def test_eureka_and_consul_services_land_there_too():
    assert dest_service_key(ServiceKey("", "", "ORDERS"), into("dev", "EUREKA")).namespace == "dev"
    assert dest_service_key(ServiceKey("", "", "orders"), into("dev", "CONSUL")).namespace == "dev"


def test_a_service_with_a_namespace_keeps_it_whatever_the_destination_names():
    source = ServiceKey("test", "G2", "orders")
    assert dest_service_key(source, into("dev", "NACOS")) == source


def test_the_destinations_namespace_means_nothing_where_it_has_no_namespaces():
    key = dest_service_key(ServiceKey("test", "G2", "orders"), into("dev", "NACOS", "CONSUL"))
    assert key == ServiceKey("", "", "orders")
