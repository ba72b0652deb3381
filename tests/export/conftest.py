from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler

import pytest
from django.core.management import call_command
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from lineage.export.live import live_export
from lineage.observability.models import ExecutionTrace
from tests.conftest import _QuietServer


class Receiver:
    """A real OTLP/HTTP collector and OpenLineage (Marquez) endpoint on
    127.0.0.1: it decodes what it is sent with the protocols' own schemas."""

    def __init__(self) -> None:
        self.spans: list = []  # opentelemetry.proto Span messages
        self.events: list[dict] = []  # OpenLineage events, as sent
        self.headers: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.headers.append(dict(self.headers))
                if receiver.status == 200:
                    receiver._take(self.path, body)
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _take(self, path: str, body: bytes) -> None:
        if path == "/v1/traces":
            request = ExportTraceServiceRequest.FromString(body)
            self.spans += [
                span
                for resource in request.resource_spans
                for scope in resource.scope_spans
                for span in scope.spans
            ]
        elif path == "/api/v1/lineage":
            self.events.append(json.loads(body))

    def span(self, name: str):
        (found,) = [s for s in self.spans if s.name == name]
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def exporting(receiver):
    """Live export of every trace to the receiver, as the settings would start it."""
    export = live_export(otlp_endpoint=receiver.url, openlineage_url=receiver.url)
    yield export
    export.close()


@pytest.fixture
def demo_chains(exporting, receiver):
    """The README's demo, run once by the scheduler while exporting; the
    export flushed. Traces by name."""
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    call_command("run_scheduler", stdout=open(os.devnull, "w"))
    assert exporting.flush(10)
    return {trace.name: trace for trace in ExecutionTrace.objects.all()}


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SilentServer:
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def close(self) -> None:
        self.socket.close()
