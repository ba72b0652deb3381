"""Timing samples and the figures of the result table."""
from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection


@dataclass
class Figure:
    """One line of the result table. Timings are milliseconds; a ratio or a
    rate has no p95."""

    name: str
    median: float | None
    p95: float | None
    unit: str
    target: str
    passed: bool
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "figure": self.name,
            "median": _rounded(self.median),
            "p95": _rounded(self.p95),
            "unit": self.unit,
            "target": self.target,
            "pass": self.passed,
            "note": self.note,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(action: Callable[[], object], repetitions: int, *, warm_up: int = 2) -> list[float]:
    """Milliseconds per call, after a few untimed warm-up calls."""
    for _ in range(warm_up):
        action()
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def timing_figure(name: str, samples: list[float], limit_ms: float, note: str = "") -> Figure:
    high = p95(samples)
    return Figure(name, median(samples), high, "ms", f"p95 ≤ {limit_ms:g} ms", high <= limit_ms, note)


def ratio_figure(name: str, ratio: float, target: str, passed: bool, note: str = "") -> Figure:
    return Figure(name, ratio, None, "×", target, passed, note)


@dataclass(frozen=True)
class BenchSizes:
    """How hard to measure: sizes, repetitions, scheduler metrics."""

    large: int
    small: int
    repetitions: int = 200
    page_repetitions: int = 100
    svg_repetitions: int = 10
    tracer_repetitions: int = 1000
    scheduler_metrics: int = 1000
    scheduler_rounds: int = 5
    seed: int = 1



# --- The whole run -----------------------------------------------------------------


@dataclass
class Result:
    figures: list[Figure]
    sizes: dict[str, int]
    database: str

    @property
    def passed(self) -> bool:
        return all(figure.passed for figure in self.figures)

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "sizes": self.sizes,
            "figures": [figure.as_dict() for figure in self.figures],
            "passed": self.passed,
        }

def describe_database() -> str:
    settings_dict = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    where = settings_dict.get("HOST") or "local socket"
    if str(where).startswith("/"):
        where = "embedded server (unix socket)"
    return f"PostgreSQL {version}, {where}, database {settings_dict.get('NAME')}"


def format_table(result: Result) -> str:
    header = ("figure", "median", "p95", "target", "result")
    rows = [header]
    for figure in result.figures:
        rows.append((
            figure.name,
            _shown(figure.median, figure.unit),
            _shown(figure.p95, figure.unit),
            figure.target or "—",
            ("pass" if figure.passed else "FAIL") if figure.target else "info",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    notes = [f"  {f.name}: {f.note}" for f in result.figures if f.note]
    sizes = ", ".join(f"{k} {v:,}" for k, v in result.sizes.items())
    return "\n".join([f"{result.database}; traces: {sizes}", "", *lines, "", "Notes:", *notes])


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "×":
        return f"{value:.2f}×"
    return f"{value:,.0f} {unit}"
