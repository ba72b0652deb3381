"""Log lines as safe as terminal output: secrets masked, control characters
escaped. settings.LOGGING puts this filter on the console handler."""
from __future__ import annotations

import logging

from lineage.observability.formatting import terminal_safe
from lineage.observability.redaction import redact


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = terminal_safe(redact(record.getMessage()), keep_newlines=True)
        record.args = None
        return True
