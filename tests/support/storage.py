"""Private MySQL databases and Redis dbs on the shared test-bed servers."""

import MySQLdb
import redis as redis_lib

from tests.testbed.pytest_plugin import host_port


def fresh_mysql_database(mysql_url: str, user: str, password: str, name: str) -> str:
    """Drop and create `name` (the test-bed user may create test_* databases); its URL."""
    host, port = host_port(mysql_url)
    conn = MySQLdb.connect(host=host, port=port, user=user, passwd=password)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    conn.close()
    return f"jdbc:mysql://{host}:{port}/{name}"


def fresh_redis_db(redis_url: str, db: int) -> str:
    """The URL of Redis db number `db` on the same server, emptied."""
    url = f"{redis_url.rsplit('/', 1)[0]}/{db}"
    redis_lib.Redis.from_url(url).flushdb()
    return url
