"""Time-ordered UUIDs (version 7 layout, RFC 9562).

Random UUIDv4 primary keys scatter inserts over the whole B-tree; a 48-bit
millisecond timestamp prefix keeps new traces at the right edge of the index.
"""
from __future__ import annotations

import os
import time
import uuid
from datetime import datetime


def uuid7(at: datetime | None = None) -> uuid.UUID:
    """A new time-ordered id; `at` stamps it with that moment instead of now
    (bulk loads of past traces keep ids in started_at order)."""
    if at is None:
        timestamp_ms = time.time_ns() // 1_000_000
    else:
        timestamp_ms = int(at.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (timestamp_ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68 & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # 62 random bits
    return uuid.UUID(int=value)
