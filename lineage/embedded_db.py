"""The zero-setup database: an embedded PostgreSQL started with pgserver.

Used only when DATABASE_URL is not set. The server keeps running after the
process that started it exits (so `make run` can be interrupted and started
again); `python -m lineage.embedded_db stop` (`make stopdb`) stops it.
"""
from __future__ import annotations

import os
import pwd
import subprocess
import sys
import warnings
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / ".data" / "postgres"
STOP_TIMEOUT_SECONDS = 60
# pg_ctl status: 3 when no server is running in the data directory, 4 when
# it is not a data directory at all.
_NOT_RUNNING = {3, 4}


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be stopped; the message says why."""


def embedded_database_settings(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """Start the embedded server when it is not running; return connection settings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data_dir, cleanup_mode=None)
    info = server.get_postmaster_info()
    return {
        "NAME": "postgres",
        "USER": "postgres",
        "PASSWORD": "",
        # pgserver listens only on a unix socket (no TCP port to collide with).
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


def stop(data_dir: Path = DATA_DIR) -> str:
    """Stop the embedded server in `data_dir` and say what happened.

    pg_ctl refuses to run as root, and pgserver, started by root, runs the
    server as a system user of its own; so pg_ctl runs as whoever owns the
    data directory, which is the user the server runs as.
    """
    if not (data_dir / "PG_VERSION").exists():
        return f"There is no embedded PostgreSQL in {data_dir}; nothing to stop."
    owner = _owner(data_dir)
    if _pg_ctl(data_dir, owner, "status").returncode in _NOT_RUNNING:
        return f"The embedded PostgreSQL in {data_dir} is not running; nothing to stop."
    result = _pg_ctl(data_dir, owner, "-w", "-t", str(STOP_TIMEOUT_SECONDS), "stop")
    if result.returncode != 0:
        reason = (result.stderr or result.stdout).strip().splitlines()
        raise EmbeddedServerError(
            f"pg_ctl could not stop the server in {data_dir}: {reason[-1] if reason else 'no reason given'}"
        )
    return f"Stopped the embedded PostgreSQL in {data_dir}."


def _owner(data_dir: Path) -> str | None:
    """The user to run pg_ctl as: the data directory's owner when we are
    root (pg_ctl will not run as root), else ourselves."""
    if os.geteuid() != 0:
        return None
    owner = pwd.getpwuid(data_dir.stat().st_uid).pw_name
    return None if owner == "root" else owner


def _pg_ctl(data_dir: Path, user: str | None, *args: str) -> subprocess.CompletedProcess:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH
    command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(data_dir), *args]
    # stop and status fork nothing that outlives them, so capturing their
    # output cannot hang on a pipe held open by the server.
    return subprocess.run(
        command, user=user, capture_output=True, text=True, timeout=STOP_TIMEOUT_SECONDS + 10
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        try:
            print(stop())
        except EmbeddedServerError as error:
            sys.exit(str(error))
    else:
        print(embedded_database_settings())
