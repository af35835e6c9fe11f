"""mysqlclient (MySQLdb) against the test-bed MariaDB, as the app user."""

import MySQLdb
import pytest

from tests.testbed.pytest_plugin import exported, host_port


@pytest.fixture
def connection(mysql):
    host, port = host_port(mysql)
    creds = exported("mariadb")
    conn = MySQLdb.connect(
        host=host,
        port=port,
        user=creds["MYSQL_USER_NAME"],
        password=creds["MYSQL_PASSWORD"],
        database=mysql.rsplit("/", 1)[1],
    )
    yield conn
    conn.close()


def test_it_runs_a_query(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_the_app_user_may_create_django_test_databases(connection):
    with connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE test_msesync_smoke")
        try:
            cursor.execute("SHOW DATABASES LIKE 'test_msesync_smoke'")
            assert cursor.fetchall() == (("test_msesync_smoke",),)
        finally:
            cursor.execute("DROP DATABASE test_msesync_smoke")
