"""Real servers for the data-source tests: an S3 API (moto's server) and PostgreSQL, each on a free local port.

Both are started by the tests themselves, once per session, and stopped at
its end; they listen on 127.0.0.1 only. Without moto or the PostgreSQL
binaries the tests that need them are skipped with the reason, unless
``MLREPORT_TEST_REQUIRE`` names ``s3`` or ``postgres`` (``.ci/run`` sets
both), which makes a missing server a failure.

PostgreSQL: ``initdb`` and ``pg_ctl`` from ``$PATH`` or Debian's
``/usr/lib/postgresql/*/bin``, a cluster in a temporary folder, password
authentication over TCP (so that the tests prove a password from the
environment is used and never recorded); run as the unprivileged
``postgres`` (or ``nobody``) user when the tests run as root, since the
server refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cli_runs import runtime_missing

__all__ = ["S3Server", "PostgresServer", "free_port", "start_s3", "start_postgres", "PG_PASSWORD", "S3_SECRET"]

PG_PASSWORD = "s3cr3t-Pg-passw0rd"
"""The test cluster's password: no report, run.json or log may ever contain it."""

S3_SECRET = "mlreport-S3-secret-Zq8x"
"""The S3 secret key the tests' environment holds: likewise never recorded."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class S3Server:
    endpoint: str
    env: dict[str, str]

    def client(self):  # boto3 client, untyped
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="mlreport-test-key", aws_secret_access_key=S3_SECRET)


@contextlib.contextmanager
def start_s3() -> Iterator[S3Server]:
    """moto's S3 server on a free port; the environment a process needs to reach it (credentials included)."""
    try:
        import boto3  # noqa: F401
        import s3fs  # noqa: F401
        from moto.server import ThreadedMotoServer
    except ImportError as error:
        runtime_missing("s3", f"moto[server], boto3 and s3fs are needed for the S3 tests ({error.name} missing)")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ACCESS_KEY_ID": "mlreport-test-key", "AWS_SECRET_ACCESS_KEY": S3_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
    }
    try:
        yield S3Server(endpoint, env)
    finally:
        server.stop()


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    database: str

    @property
    def url(self) -> str:
        """The SQLAlchemy URL, without the password (it comes from the environment)."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{self.database}"

    def execute(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname=self.database,
                             password=PG_PASSWORD, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def connect(self):  # psycopg connection, untyped
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=self.user, dbname=self.database,
                               password=PG_PASSWORD)


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    def version(path: str) -> tuple[int, ...]:  # /usr/lib/postgresql/15/bin/initdb -> (15,); 9.6 sorts before 15
        return tuple(int(part) for part in Path(path).parts[-3].split(".") if part.isdigit())

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    return candidates[-1] if candidates else None


def _unprivileged() -> list[str]:
    if os.geteuid() != 0:
        return []
    import pwd

    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    return []


@contextlib.contextmanager
def start_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster in a temporary folder, on a free port, password authentication over TCP."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        runtime_missing("postgres", "PostgreSQL's initdb and pg_ctl were not found (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError as error:
        runtime_missing("postgres", f"SQLAlchemy and psycopg are needed for the PostgreSQL tests ({error.name})")
    as_user = _unprivileged()
    root = Path(tempfile.mkdtemp(prefix="mlreport-pg-"))
    data_dir, socket_dir = root / "data", root / "socket"
    socket_dir.mkdir()
    password_file = root / "password"
    password_file.write_text(PG_PASSWORD + "\n")
    if as_user:
        user = as_user[2]
        shutil.chown(root, user)
        shutil.chown(socket_dir, user)
        shutil.chown(password_file, user)
    port = free_port()
    log = root / "server.log"
    try:
        subprocess.run(
            [*as_user, initdb, "-D", str(data_dir), "-U", "report", f"--pwfile={password_file}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"],
            check=True, capture_output=True, timeout=120, cwd=root,
        )
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data_dir), "-l", str(log), "-w", "-t", "60", "-o",
             f"-h 127.0.0.1 -p {port} -k {socket_dir} -c fsync=off -c full_page_writes=off", "start"],
            check=True, capture_output=True, timeout=120, cwd=root,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        detail = getattr(error, "stderr", b"") or b""
        server_log = log.read_text(errors="replace")[-500:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        runtime_missing("postgres", f"PostgreSQL did not start: {error} {detail.decode(errors='replace')[-300:]} "
                                    f"{server_log}")
    server = PostgresServer("127.0.0.1", port, "report", "postgres")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.execute("SELECT 1")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data_dir), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60, cwd=root)
        shutil.rmtree(root, ignore_errors=True)
