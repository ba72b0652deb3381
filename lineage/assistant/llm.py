"""An optional language-model planner (OpenAI-compatible chat completions
with tool calling), used only when LINEAGE_LLM_URL and LINEAGE_LLM_MODEL are
set. The model only picks an intent and names its arguments; names, ids and
times are then resolved exactly as the rule planner does, within the user's
organizations. Any error, timeout or malformed reply falls back to the rules.
"""
from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from django.conf import settings

from lineage.assistant.planner import (
    INTENTS,
    AskContext,
    Plan,
    find_name,
    find_trace,
    normalize,
    plan,
)
from lineage.assistant.timephrases import parse_window

logger = logging.getLogger("lineage.assistant")
TIMEOUT_SECONDS = 10

_DESCRIPTIONS = {
    "explain_trace": "Explain why a run happened (a trace id, or a workflow/alert/metric name).",
    "why_not_run": "Explain why a workflow, alert or metric did NOT run or fire in a time window.",
    "list_failures": "List failed runs in a time window, optionally of one trace type.",
    "impact": "List what a run triggered downstream.",
    "run_metric": "Run a metric now, by name.",
    "help": "Say what can be asked.",
}
_PARAMETERS = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "workflow, alert or metric name"},
        "trace_id": {"type": "string", "description": "a trace id or its first/last digits"},
        "time": {"type": "string", "description": "time phrase, e.g. 'this morning', 'at 10:05'"},
        "trace_type": {"type": "string", "enum": ["metric", "alert", "workflow", "step"]},
    },
    "additionalProperties": False,
}
TOOLS = [
    {
        "type": "function",
        "function": {"name": intent, "description": _DESCRIPTIONS[intent], "parameters": _PARAMETERS},
    }
    for intent in INTENTS
]
SYSTEM_PROMPT = (
    "You route questions about automated runs (metrics, alerts, workflows) to exactly one "
    "tool. Always call one tool; copy names, ids and time phrases from the question."
)


class LlmReplyError(ValueError):
    pass


def plan_with_llm(message: str, context: AskContext) -> Plan:
    text = normalize(message)  # empty/over-long questions never reach the model
    try:
        intent, args = _ask_model(text)
        return _plan_from(intent, args, text, context)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        logger.warning("language-model planner failed (%s); using the rules", exc)
        return plan(message, context)


def _endpoint() -> str:
    url = settings.LINEAGE_LLM_URL.rstrip("/")
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


def _ask_model(text: str) -> tuple[str, dict[str, Any]]:
    body = {
        "model": settings.LINEAGE_LLM_MODEL,
        "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text}],
        "tools": TOOLS,
        "tool_choice": "required",
        "temperature": 0,
    }
    headers = {"Content-Type": "application/json"}
    if settings.LINEAGE_LLM_API_KEY:
        headers["Authorization"] = f"Bearer {settings.LINEAGE_LLM_API_KEY}"
    request = urllib.request.Request(
        _endpoint(), data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        reply = json.loads(response.read(1_000_000))
    call = reply["choices"][0]["message"]["tool_calls"][0]["function"]
    intent = call["name"]
    args = json.loads(call.get("arguments") or "{}")
    if intent not in INTENTS or not isinstance(args, dict):
        raise LlmReplyError(f"unexpected tool call {intent!r}")
    return intent, {k: v for k, v in args.items() if isinstance(v, str) and len(v) <= 200}


def _plan_from(intent: str, args: dict[str, str], text: str, context: AskContext) -> Plan:
    result = Plan(intent, window=parse_window(args.get("time", ""), context.now))
    if args.get("trace_type") in {"metric", "alert", "workflow", "step"}:
        result.trace_type = args["trace_type"]
    if args.get("trace_id"):
        result.trace, result.clarification = find_trace(args["trace_id"].lower(), context)
    elif args.get("name") and intent not in {"help", "list_failures"}:
        kinds = ("metric",) if intent == "run_metric" else ("workflow", "alert", "metric")
        result.target, _ = find_name(args["name"].lower(), context.organization, kinds)
        if result.target is None:
            raise LlmReplyError(f"the model named {args['name']!r}, which is not here")
        result.latest = result.window is None
    elif intent in {"explain_trace", "impact", "why_not_run", "run_metric"}:
        return plan(text, context)  # nothing to act on: let the rules read the question
    return result
