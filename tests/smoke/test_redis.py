"""redis-py against the test-bed Redis."""

import uuid

import pytest
import redis as redis_py


@pytest.fixture
def client(redis):
    conn = redis_py.Redis.from_url(redis)
    yield conn
    conn.close()


def test_it_answers_ping(client):
    assert client.ping() is True


def test_it_reads_back_what_it_wrote(client):
    key = f"msesync-smoke-{uuid.uuid4().hex[:8]}"
    client.set(key, "value", ex=60)
    try:
        assert client.get(key) == b"value"
    finally:
        client.delete(key)
