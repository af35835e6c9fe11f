"""The running product, once per storage mode: embedded (SQLite + file broker) and MySQL+Redis."""

import os

import pytest

from tests.support.product import Product
from tests.support.storage import fresh_mysql_database, fresh_redis_db

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


def mysql_mode_env(request) -> dict[str, str]:
    from tests.testbed.pytest_plugin import exported

    mysql_url = request.getfixturevalue("mysql")
    redis_url = request.getfixturevalue("redis")
    creds = exported("mariadb")
    user, password = creds["MYSQL_USER_NAME"], creds["MYSQL_PASSWORD"]
    return {
        "MYSQL_URL": fresh_mysql_database(mysql_url, user, password, E2E_DATABASE),
        "MYSQL_USER_NAME": user,
        "MYSQL_PASSWORD": password,
        "REDIS_URL": fresh_redis_db(redis_url, E2E_REDIS_DB),
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
