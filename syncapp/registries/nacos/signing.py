"""Alibaba Cloud ak/sk request signing, as the Nacos clients do it for the naming module.

The signed data is the current time in milliseconds, followed by `@@` and the grouped service
name (`GROUP@@service`) when the request names a service; the signature is the base64 of its
HMAC-SHA1 under the secret key. Nacos servers with the RAM auth plugin (Alibaba Cloud MSE)
check `ak`, `data` and `signature` (gRPC headers, or HTTP parameters for v1).
"""

import base64
import hashlib
import hmac
import time


def sign(data: str, secret_key: str) -> str:
    digest = hmac.new(secret_key.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def naming_signature(
    access_key: str, secret_key: str, grouped_service: str = "", now_ms: int | None = None
) -> dict[str, str]:
    """The `ak`, `data` and `signature` entries for one naming request."""
    millis = str(int(time.time() * 1000) if now_ms is None else now_ms)
    data = f"{millis}@@{grouped_service}" if grouped_service else millis
    return {"ak": access_key, "data": data, "signature": sign(data, secret_key)}
