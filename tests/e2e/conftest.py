"""The running product, once per storage mode: embedded (SQLite + file broker) and MySQL+Redis."""

import os

import MySQLdb
import pytest
import redis as redis_lib

from tests.support.product import Product

# Private to this pytest process, so two runs on one test bed do not drop each other's data.
E2E_DATABASE = f"test_msesync_e2e_{os.getpid()}"
E2E_REDIS_DB = 5 + os.getpid() % 10
# Imported by `bin/msesync start`, as conf/config.yaml would be.
STARTUP_CONFIG = """\
clusters:
  - clusterName: from-startup-config
    clusterType: CONSUL
    connectKeyList: ["127.0.0.1:1"]
"""


def fresh_mysql_database(mysql_url: str, user: str, password: str) -> str:
    from tests.testbed.pytest_plugin import host_port

    host, port = host_port(mysql_url)
    conn = MySQLdb.connect(host=host, port=port, user=user, passwd=password)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {E2E_DATABASE}")
        cur.execute(f"CREATE DATABASE {E2E_DATABASE} CHARACTER SET utf8mb4")
    conn.close()
    return f"jdbc:mysql://{host}:{port}/{E2E_DATABASE}"


def mysql_mode_env(request) -> dict[str, str]:
    from tests.testbed.pytest_plugin import exported

    mysql_url = request.getfixturevalue("mysql")
    redis_url = request.getfixturevalue("redis")
    creds = exported("mariadb")
    url = fresh_mysql_database(mysql_url, creds["MYSQL_USER_NAME"], creds["MYSQL_PASSWORD"])
    base = redis_url.rsplit("/", 1)[0]
    redis_lib.Redis.from_url(f"{base}/{E2E_REDIS_DB}").flushdb()
    return {
        "MYSQL_URL": url,
        "MYSQL_USER_NAME": creds["MYSQL_USER_NAME"],
        "MYSQL_PASSWORD": creds["MYSQL_PASSWORD"],
        "REDIS_URL": f"{base}/{E2E_REDIS_DB}",
    }


@pytest.fixture(scope="module", params=["embedded", "mysql"])
def product(request, tmp_path_factory):
    env = mysql_mode_env(request) if request.param == "mysql" else {}
    data_dir = tmp_path_factory.mktemp(f"product-{request.param}")
    (data_dir / "config.yaml").write_text(STARTUP_CONFIG)
    env["MSESYNC_CONFIG_FILE"] = str(data_dir / "config.yaml")
    running = Product(data_dir, env)
    running.start()
    yield running
    running.stop()
    print(running.logs()[-6000:])
