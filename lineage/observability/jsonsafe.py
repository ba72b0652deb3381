"""Make arbitrary Python values safe to store in a jsonb column.

PostgreSQL's jsonb rejects NaN/Infinity and the NUL character, and a huge
value would bloat every trace page; a traced body can hand us any of these.
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

MAX_JSON_CHARS = 64_000
PREVIEW_CHARS = 2_000


def clean_text(text: str) -> str:
    return text.replace("\x00", "\ufffd")


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    if _depth > 50:
        return "…(nested too deeply)"
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): to_jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v, _depth + 1) for v in value]
    if isinstance(value, bytes):
        return clean_text(value[:PREVIEW_CHARS].decode("utf-8", "replace"))
    return clean_text(repr(value))


def dumps(value: Any) -> str:
    """JSON text for a jsonb column: always valid, never larger than the cap."""
    text = json.dumps(to_jsonable(value or {}), allow_nan=False, ensure_ascii=False)
    if len(text) <= MAX_JSON_CHARS:
        return text
    return json.dumps(
        {"_truncated": True, "size": len(text), "preview": text[:PREVIEW_CHARS]},
        ensure_ascii=False,
    )
