"""The zero-setup database: an embedded PostgreSQL started with pgserver.

Used only when DATABASE_URL is not set. The server keeps running after the
process that started it exits (so `make run` can be interrupted and started
again); `python -m lineage.embedded_db stop` stops it.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / ".data" / "postgres"


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


def stop(data_dir: Path = DATA_DIR) -> None:
    import subprocess

    import pgserver  # noqa: F401  (ensures the bundled binaries are on disk)
    from pgserver._commands import POSTGRES_BIN_PATH

    subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(data_dir), "stop"], check=False)


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        stop()
    else:
        print(embedded_database_settings())
