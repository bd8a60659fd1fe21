"""A throwaway PostgreSQL server in a temporary folder, for the QC-history tests and benchmark.

``initdb`` and ``pg_ctl`` (found on PATH or in Debian's /usr/lib/postgresql/<version>/bin) make a
cluster in a fresh folder under the system's temporary folder, listening on a free TCP port of
127.0.0.1 and on a Unix socket in that folder, with ``trust`` authentication (nothing but this
machine's users can reach it). ``initdb`` refuses to run as root, so as root the server runs as the
``postgres`` system user (which Debian's package creates), the folder handed over to it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: set (to anything but 0) where the PostgreSQL variants must run: CI fails instead of skipping them
REQUIRE_ENV = "MICROSCOPE_QC_REQUIRE_POSTGRES"


class PostgresUnavailable(Exception):
    """No PostgreSQL server can be started here; the message says why and what to install."""


def postgres_required() -> bool:
    """Whether ``$MICROSCOPE_QC_REQUIRE_POSTGRES`` asks for the PostgreSQL variants to run, never skip."""
    return os.environ.get(REQUIRE_ENV, "0") not in ("", "0")


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH first, else the newest Debian version."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    versions = []
    for folder in Path("/usr/lib/postgresql").glob("*/bin"):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            match = re.fullmatch(r"\d+(\.\d+)?", folder.parent.name)
            versions.append((float(match.group()) if match else 0.0, folder))
    return max(versions)[1] if versions else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A running throwaway server; :meth:`stop` ends it and deletes its folder."""

    bindir: Path
    root: Path
    port: int
    as_user: list[str]
    superuser: str = "postgres"

    def url(self, database: str, user: str | None = None) -> str:
        """``postgresql://USER@127.0.0.1:PORT/DATABASE`` (trust authentication: no password)."""
        return f"postgresql://{user or self.superuser}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres"):  # -> psycopg.Connection, untyped here
        """An autocommit psycopg connection as the superuser."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.superuser, dbname=database, autocommit=True
        )

    def create_database(self, name: str) -> str:
        """Create an empty database; return its URL."""
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once and delete its folder."""
        try:
            subprocess.run(
                [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
                 "-w", "stop"],
                cwd=self.root, capture_output=True, timeout=60, check=False,
            )  # fmt: skip
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(durable: bool = False) -> PostgresServer:
    """Start a throwaway PostgreSQL server.

    Parameters
    ----------
    durable : bool
        Keep PostgreSQL's default fsync on (for timings); off by default, which makes the tests'
        many small commits and CREATE DATABASE fast.

    Returns
    -------
    PostgresServer
        The running server.

    Raises
    ------
    PostgresUnavailable
        If the server programs or the driver are missing, or (as root) there is no ``postgres`` user.
    RuntimeError
        If the programs are there but the server does not start (with the end of its log).
    """
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise PostgresUnavailable(
            'the PostgreSQL driver psycopg is not installed (pip install "napari-microscope-qc[postgres]")'
        ) from None
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "PostgreSQL server programs (initdb, pg_ctl) not found on PATH nor in /usr/lib/postgresql/*/bin; "
            "install them (Debian/Ubuntu: apt-get install postgresql) to run the PostgreSQL variants"
        )
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="microscope-qc-pg-"))
    (root / "sock").mkdir()
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres system user
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(
                "running as root, and there is no 'postgres' system user to run the server as "
                "(Debian's postgresql package creates it)"
            ) from None
        runuser = shutil.which("runuser")
        if runuser is None:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(
                "running as root, and runuser (util-linux) is not there to run as postgres"
            )
        as_user = [runuser, "-u", "postgres", "--"]
        for path in (root, root / "sock"):
            os.chown(path, pw.pw_uid, pw.pw_gid)
    port = _free_port()

    def run(*args: str) -> None:
        done = subprocess.run([*as_user, *args], cwd=root, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({done.returncode}):\n{done.stdout}{done.stderr}{tail}"
            )

    run(str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--no-locale", "--no-sync")  # fmt: skip
    options = f"-p {port} -k {root / 'sock'} -c listen_addresses=127.0.0.1 -c max_connections=100"
    if not durable:
        options += " -F"  # no fsync: a throwaway server
    run(str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "server.log"), "-o", options,
        "-w", "-t", "60", "start")  # fmt: skip
    return PostgresServer(bindir, root, port, as_user)
