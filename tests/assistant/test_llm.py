"""The optional language-model planner, against a local server that speaks
the OpenAI-compatible chat-completions protocol."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command

from lineage.assistant.answers import answer_question
from lineage.assistant.intents import SPECS
from lineage.assistant.planner import QuestionError
from lineage.observability.models import ExecutionTrace
from tests.factories import traced_db

pytestmark = traced_db


class ChatCompletionsServer:
    """Answers POST /v1/chat/completions with whatever `reply` says."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.reply: object = None
        self.status = 200
        self.delay = 0.0
        self.hang_up = False
        self.trickle = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                if server.delay:
                    threading.Event().wait(server.delay)
                if server.hang_up:
                    self.close_connection = True
                    return  # no status line at all
                payload = server.reply if isinstance(server.reply, bytes) else json.dumps(server.reply).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                try:
                    if server.trickle:
                        for byte in payload:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            threading.Event().wait(server.trickle)
                    else:
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def tool_call(self, name: str, arguments: dict | str) -> None:
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        self.reply = {
            "choices": [
                {"message": {"role": "assistant", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": name, "arguments": args}}
                ]}}
            ]
        }


@pytest.fixture
def model(settings):
    server = ChatCompletionsServer()
    settings.LINEAGE_LLM_URL = server.url
    settings.LINEAGE_LLM_MODEL = "tiny-router"
    settings.LINEAGE_LLM_API_KEY = "sk-test"
    yield server
    server.httpd.shutdown()


def test_the_models_tool_call_is_used(model, ctx):
    model.tool_call("list_failures", {"time": "yesterday", "trace_type": "workflow"})

    answer = answer_question("anything go sideways for the workflows yesterday", ctx)

    assert answer.intent == "list_failures"
    assert answer.args == {"window": "yesterday", "trace_type": "workflow"}
    [request] = model.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "tiny-router"
    assert {tool["function"]["name"] for tool in request["body"]["tools"]} >= {
        "explain_trace", "why_not_run", "list_failures", "impact", "run", "rerun", "count_runs",
        "health", "compare_runs", "preview", "help",
    }


def test_a_count_from_the_model_keeps_its_outcome(model, ctx):
    model.tool_call("count_runs", {"name": "page ops", "outcome": "failed", "time": "today"})
    answer = answer_question("how many pages bounced today", ctx)
    assert answer.args == {
        "name": "Page ops", "kind": "workflow", "window": "today", "outcome": "failed"
    }
    assert answer.text == "Workflow “Page ops” did not fail today."


def test_names_from_the_model_are_resolved_in_the_organization(model, ctx):
    model.tool_call("why_not_run", {"name": "notify on call", "time": "today"})
    answer = answer_question("it's quiet, is the on-call thing broken?", ctx)
    assert answer.intent == "why_not_run"
    assert answer.args["name"] == "Notify on-call" and answer.args["window"] == "today"


@pytest.mark.parametrize(
    "breakage",
    [
        "malformed json", "no tool call", "unknown tool", "bad arguments", "server error", "timeout",
        "unknown name", "hang-up", "argument the tool does not take", "required argument missing",
        "arguments not strings", "not a trace id", "trickle", "too long",
    ],
)  # fmt: skip
def test_any_failure_falls_back_to_the_rule_planner(model, ctx, breakage, settings):
    model.tool_call("help", {})
    if breakage == "malformed json":
        model.reply = b"{not json"
    elif breakage == "no tool call":
        model.reply = {"choices": [{"message": {"role": "assistant", "content": "Sure!"}}]}
    elif breakage == "unknown tool":
        model.tool_call("drop_database", {})
    elif breakage == "bad arguments":
        model.tool_call("explain_trace", "{'name': oops")
    elif breakage == "server error":
        model.status = 500
    elif breakage == "timeout":
        settings.LINEAGE_LLM_TIMEOUT_SECONDS = 0.3
        model.delay = 2
    elif breakage == "trickle":
        settings.LINEAGE_LLM_TIMEOUT_SECONDS = 0.5
        model.trickle = 0.2  # each byte within the socket timeout, the whole far beyond it
    elif breakage == "too long":
        model.reply = b" " * 1_100_000
    elif breakage == "unknown name":
        model.tool_call("explain_trace", {"name": "Quarterly bonus"})
    elif breakage == "hang-up":
        model.hang_up = True
    elif breakage == "argument the tool does not take":
        model.tool_call("list_failures", {"time": "today", "sql": "DROP TABLE execution_traces"})
    elif breakage == "required argument missing":
        model.tool_call("why_not_run", {"time": "today"})
    elif breakage == "arguments not strings":
        model.tool_call("explain_trace", {"name": ["Page ops"]})
    elif breakage == "not a trace id":
        model.tool_call("explain_trace", {"trace_id": "this one"})

    answer = answer_question("what failed today?", ctx)

    assert answer.intent == "list_failures"  # what the rules make of it
    assert len(model.requests) == 1


def test_bad_questions_never_reach_the_model(model, ctx):
    with pytest.raises(QuestionError):
        answer_question("   ", ctx)
    assert model.requests == []


def test_without_settings_the_model_is_not_called(ctx, settings):
    settings.LINEAGE_LLM_URL = ""
    assert answer_question("what failed today?", ctx).intent == "list_failures"


def test_each_intent_is_a_tool_with_its_own_arguments(model, ctx):
    model.tool_call("help", {})
    answer_question("help", ctx)
    tools = {t["function"]["name"]: t["function"]["parameters"] for t in model.requests[0]["body"]["tools"]}
    assert set(tools["list_failures"]["properties"]) == {"time", "trace_type"}
    assert tools["why_not_run"]["required"] == ["name"]
    assert tools["run"]["properties"].keys() == {"name", "trace_id"}
    assert tools["count_runs"]["properties"]["outcome"]["enum"] == ["failed", "succeeded", "fired", "quiet", "ran"]
    assert set(tools) == {intent.value for intent in SPECS}
    assert tools["help"]["properties"] == {}


def test_a_trace_id_from_the_model_is_looked_up_in_the_users_organizations(model, ctx):
    call_command("run_scheduler", stdout=StringIO())
    page_ops = ExecutionTrace.objects.get(name="Page ops")
    model.tool_call("explain_trace", {"trace_id": str(page_ops.id)[-8:]})

    answer = answer_question("tell me about that paging run", ctx)

    assert answer.args["trace_id"] == str(page_ops.id)
    assert "It ran because alert “Orders piling up” fired" in answer.text


def test_the_trace_being_viewed_is_used_when_the_model_names_nothing(model, ctx):
    call_command("run_scheduler", stdout=StringIO())
    ctx.trace_id = ExecutionTrace.objects.get(name="Page ops").id
    model.tool_call("explain_trace", {})

    answer = answer_question("Why did this run?", ctx)

    assert answer.args["trace_id"] == str(ctx.trace_id)
    assert "failed at step 1 “Page the ops channel”" in answer.text
