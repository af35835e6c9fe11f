"""ak/sk signing of Nacos naming requests, checked against the documented algorithm."""

import base64
import hashlib
import hmac

from v2.nacos.utils.hmac_util import sign_with_hmac_sha1_encrypt

from syncapp.registries.base import ClusterConfig
from syncapp.registries.nacos import NacosRegistry
from syncapp.registries.nacos.signing import naming_signature


def test_the_signature_is_base64_hmac_sha1_of_time_and_grouped_service():
    signed = naming_signature("AK1", "secret", "DEFAULT_GROUP@@orders", now_ms=1700000000123)
    data = "1700000000123@@DEFAULT_GROUP@@orders"
    expected = base64.b64encode(hmac.new(b"secret", data.encode(), hashlib.sha1).digest())
    assert signed == {"ak": "AK1", "data": data, "signature": expected.decode()}
    # the official Python SDK signs the same data to the same value
    assert signed["signature"] == sign_with_hmac_sha1_encrypt(data, "secret")


def test_without_a_service_only_the_time_is_signed():
    signed = naming_signature("AK1", "secret", now_ms=42)
    assert signed["data"] == "42"
    assert signed["signature"] == sign_with_hmac_sha1_encrypt("42", "secret")


def test_grpc_requests_carry_the_signature_of_their_service():
    config = ClusterConfig("mse", "NACOS", ("127.0.0.1:1",), ak="AK1", sk="secret")
    registry = NacosRegistry(config)
    headers = registry._grpc_headers({"serviceName": "orders", "groupName": "G"})
    millis, service = headers["data"].split("@@", 1)
    assert service == "G@@orders" and millis.isdigit()
    assert headers["signature"] == sign_with_hmac_sha1_encrypt(headers["data"], "secret")
    assert "accessToken" not in headers  # no user name: no login
    registry.close()
