"""manage.py as cron and a terminal run it: set-up problems are one clear line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, str(MANAGE), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("database_url", "first_line"),
    [
        ("postgres://postgres@127.0.0.1:1/lineage", "Database error: connection failed:"),
        ("sqlite:///lineage.db", "Configuration error: DATABASE_URL must point at PostgreSQL"),
        ("not a url", "Configuration error: DATABASE_URL is not a valid URL"),
    ],
)
def test_a_database_that_cannot_be_used_is_one_line_and_a_failing_exit(database_url, first_line):
    result = manage("traces", database_url=database_url)

    assert result.returncode == 1
    assert result.stderr.startswith(first_line)
    assert "Traceback" not in result.stderr
    assert "Check DATABASE_URL" in result.stderr


def test_the_traceback_is_there_when_asked_for():
    result = manage("traces", "--traceback", database_url="postgres://postgres@127.0.0.1:1/lineage")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
