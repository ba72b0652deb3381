#!/usr/bin/env python
"""Django's command-line utility for Lineage."""
import os
import sys

HINT = "Check DATABASE_URL (unset, Lineage starts its embedded PostgreSQL in .data/postgres)."


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lineage.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    # A bad setting or an unreachable database is a set-up problem, not a
    # bug: say so in a line (cron mails it) unless asked for the traceback.
    try:
        execute_from_command_line(sys.argv)
    except OperationalError as error:
        _exit_on_setup_problem("Database error", error)
    except ImproperlyConfigured as error:
        _exit_on_setup_problem("Configuration error", error)


def _exit_on_setup_problem(kind: str, error: Exception) -> None:
    if "--traceback" in sys.argv:
        raise error
    text = str(error).strip()
    first_line = text.splitlines()[0] if text else type(error).__name__
    # The database hint only where the database is the problem.
    hint = f"\n{HINT}" if kind == "Database error" or "DATABASE_URL" in text else ""
    sys.exit(f"{kind}: {first_line}{hint}")


if __name__ == "__main__":
    main()
