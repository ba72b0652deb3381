"""The embedded PostgreSQL that `make run` starts and `make stopdb` stops,
started for real in a data directory of the test's own."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from lineage.embedded_db import stop

START = (
    "import sys; from pathlib import Path; "
    "from lineage.embedded_db import embedded_database_settings; "
    "embedded_database_settings(Path(sys.argv[1]))"
)


@pytest.fixture
def data_dir(tmp_path_factory) -> Path:
    # Under /tmp, as a user's checkout would be anywhere: pgserver makes the
    # path readable by the server's own system user when started as root.
    return tmp_path_factory.mktemp("embedded") / "postgres"


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


def test_stop_ends_the_server_started_for_this_checkout(data_dir):
    # Started by another process, as `make run` does, and left running.
    subprocess.run([sys.executable, "-c", START, str(data_dir)], check=True, timeout=120,
                   cwd=Path(__file__).parent.parent)
    pid = postmaster_pid(data_dir)
    assert psutil.pid_exists(pid)
    if os.geteuid() == 0:  # the case that failed: the server is not root's
        assert psutil.Process(pid).username() != "root"

    assert stop(data_dir) == f"Stopped the embedded PostgreSQL in {data_dir}."

    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (data_dir / "postmaster.pid").exists()
    assert stop(data_dir) == f"The embedded PostgreSQL in {data_dir} is not running; nothing to stop."


def test_stop_says_when_there_is_nothing_to_stop(tmp_path):
    assert stop(tmp_path / "postgres") == (
        f"There is no embedded PostgreSQL in {tmp_path / 'postgres'}; nothing to stop."
    )
