#!/usr/bin/env python
"""Django's command-line utility for Lineage."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lineage.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except (ImproperlyConfigured, OperationalError) as error:
        # A bad setting or an unreachable database is a set-up problem, not a
        # bug: say so in a line (cron mails it) unless asked for the traceback.
        if "--traceback" in sys.argv:
            raise
        sys.exit(f"{_kind(error)}: {_first_line(error)}\n{_HINT}")


_HINT = "Check DATABASE_URL (unset, Lineage starts its embedded PostgreSQL in .data/postgres)."


def _kind(error: Exception) -> str:
    return "Database error" if type(error).__name__ == "OperationalError" else "Configuration error"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


if __name__ == "__main__":
    main()
