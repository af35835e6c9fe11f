"""MariaDB 10.11 from the Debian `mariadb-server` package: a private instance for the app's DB.

Obtained with apt; `mariadb-install-db` runs once into CACHE_DIR/mariadb/datadir and every start
copies that template (about 5 s saved). after_start() creates database `msesync` and user
msesync/msesync with all privileges on it and on `test_msesync%` (Django's test databases).
Limits: runs as the invoking user (`--user=root` under root) rather than `mysql`, because the
data dir lives under $HOME, which is 0700 for root and so unreachable for the mysql user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from tests.testbed.base import Server, cache_dir
from tests.testbed.obtain import apt_install, run
from tests.testbed.probes import tcp_greeting

PORT = 13306
DATABASE, USER, PASSWORD = "msesync", "msesync", "msesync"
# Shared by install-db and the server so the template matches: utf8mb4 like production
# MySQL (10.11 defaults to latin1), and a small buffer pool to keep RSS down.
SERVER_OPTIONS = [
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=16M",
    "--skip-name-resolve",
]
SETUP_SQL = f"""
CREATE DATABASE IF NOT EXISTS {DATABASE};
CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';
GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{USER}'@'%';
GRANT ALL PRIVILEGES ON `test_{DATABASE}%`.* TO '{USER}'@'%';
"""


def os_user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def template_dir() -> Path:
    return cache_dir() / "mariadb" / "datadir"


class ServerImpl(Server):
    name = "mariadb"
    ports = (PORT,)
    ready_timeout = 60.0

    def obtain(self) -> None:
        apt_install("mariadb-server", "mariadb-client")
        if not template_dir().exists():
            self.build_template()

    def build_template(self) -> None:
        # Build beside the target and rename, so an interrupted run leaves no half template.
        partial = template_dir().with_name("datadir.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.parent.mkdir(parents=True, exist_ok=True)
        run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--user={os_user()}",
                f"--datadir={partial}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *SERVER_OPTIONS,
            ]
        )
        partial.rename(template_dir())

    def prepare(self, run_dir: Path) -> None:
        shutil.copytree(template_dir(), run_dir / "data")

    def command(self, run_dir: Path) -> list[str]:
        return [
            "mariadbd",
            "--no-defaults",
            f"--user={os_user()}",
            f"--datadir={run_dir / 'data'}",
            f"--socket={run_dir / 'mysqld.sock'}",
            f"--pid-file={run_dir / 'mysqld.pid'}",
            f"--port={PORT}",
            "--bind-address=127.0.0.1",
            *SERVER_OPTIONS,
        ]

    def is_ready(self) -> bool:
        # Handshake packet: 3-byte length, sequence id, then protocol version 10.
        greeting = tcp_greeting(PORT)
        return len(greeting) > 4 and greeting[4] == 10

    def after_start(self, run_dir: Path) -> None:
        # root over the private socket: its password is empty (auth method "normal").
        client = [
            "mariadb",
            "--no-defaults",
            f"--socket={run_dir / 'mysqld.sock'}",
            "-uroot",
        ]
        run(client, input=SETUP_SQL)

    def version(self) -> str:
        return self.query("SELECT VERSION()")

    def query(self, sql: str) -> str:
        """One-value query over TCP as the app user, via the mariadb command-line client."""
        client = ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{PORT}", f"-u{USER}"]
        argv = [*client, f"-p{PASSWORD}", "-N", "-B", "-e", sql]
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()

    def exports(self) -> dict[str, str]:
        return {
            "MYSQL_URL": f"jdbc:mysql://127.0.0.1:{PORT}/{DATABASE}",
            "MYSQL_USER_NAME": USER,
            "MYSQL_PASSWORD": PASSWORD,
        }
