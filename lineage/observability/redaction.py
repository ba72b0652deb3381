"""Secrets out of everything Lineage writes: one redaction, used by every
writer of traces (store.py), log lines (logs.RedactingFilter), pages (format_json
and the templates' text), assistant answers and terminal output.

What counts as a secret in text: the credentials of a URL (`user:pass@`),
the values of query parameters named like credentials (`?token=`, `key=`,
`secret=`, `password=`, `signature=` …), and the token after
`Authorization: Bearer`/`Basic`. Each becomes `***`. Secrets a step keeps as
such (secret headers) are never handed to a writer in the first place.
"""
from __future__ import annotations

import re
from typing import Any

MASK = "***"

# scheme://user:password@host → scheme://***@host
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#\s@\"'<>\\]+@")
# ?token=…, &api_key=…, ;X-Amz-Signature=… (the name, or its last word, says secret)
_SECRET_PARAMETER = re.compile(
    r"(?i)([?&;](?:[^=&;#\s\"'<>]*[_.\-])?"
    r"(?:token|key|apikey|secret|password|passwd|pwd|pass|signature|sig|auth|authorization"
    r"|credentials?|session|sessionid|jwt)=)[^&;#\s\"'<>\\]+"
)
# Authorization: Bearer abc…, Basic dXNl…
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=\-]{6,}")


def redact(text: str) -> str:
    """`text` with credentials and secret-looking URL parameters masked.
    Safe on JSON text: a mask never swallows a quote or a backslash."""
    if not text or not isinstance(text, str):
        return text
    # Every trace write comes through here: skip the patterns that cannot match.
    if "@" in text:
        text = _URL_CREDENTIALS.sub(_keep_first_group(MASK + "@"), text)
    if "=" in text:
        text = _SECRET_PARAMETER.sub(_keep_first_group(MASK), text)
    lowered = text.lower()
    if "bearer" in lowered or "basic" in lowered or "token" in lowered:
        text = _AUTH_SCHEME.sub(lambda match: f"{match[1]}{match[2]}{MASK}", text)
    return text


def _keep_first_group(mask: str):
    return lambda match: match[1] + mask


def redact_value(value: Any) -> Any:
    """A JSON-like value with every string in it (keys too) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(key): redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return value


def restore_redacted(edited: Any, original: Any) -> Any:
    """`edited` with every string left as the mask shows it (redact(original))
    put back to the original: a form that shows a config masked saves it
    unchanged unless a value was really edited."""
    if isinstance(edited, str) and isinstance(original, str):
        return original if edited == redact(original) else edited
    if isinstance(edited, dict) and isinstance(original, dict):
        return {key: restore_redacted(value, original.get(key)) for key, value in edited.items()}
    if isinstance(edited, list) and isinstance(original, list):
        return [
            restore_redacted(value, original[i] if i < len(original) else None)
            for i, value in enumerate(edited)
        ]
    return edited


def without(text: str, secrets: list[str]) -> str:
    """`text` with each of these known secret values masked (a server that
    echoes a step's Authorization header back)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return redact(text)

