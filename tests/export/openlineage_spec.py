"""What the OpenLineage specification (2-0-2) requires of a run event, as a
JSON Schema: the constraints of its OpenLineage.json (RunEvent, Run, Job,
datasets, base facets) and of ParentRunFacet.json, written out here because
the specification's files are not shipped by any package this project can
install. Formats are checked: uuid, date-time (with an offset), uri."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlparse

from jsonschema import Draft202012Validator, FormatChecker

_URI = {"type": "string", "format": "uri"}
_BASE_FACET = {
    "type": "object",
    "properties": {"_producer": _URI, "_schemaURL": _URI},
    "required": ["_producer", "_schemaURL"],
}
_FACETS = {"type": "object", "additionalProperties": {"$ref": "#/$defs/BaseFacet"}}
_JOB_REF = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}},
    "required": ["namespace", "name"],
}
_RUN_REF = {
    "type": "object",
    "properties": {"runId": {"type": "string", "format": "uuid"}},
    "required": ["runId"],
}

RUN_EVENT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "BaseFacet": _BASE_FACET,
        "Dataset": {
            "type": "object",
            "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}, "facets": _FACETS},
            "required": ["namespace", "name"],
        },
        "ParentRunFacet": {
            "allOf": [
                {"$ref": "#/$defs/BaseFacet"},
                {
                    "type": "object",
                    "properties": {
                        "run": _RUN_REF,
                        "job": _JOB_REF,
                        "root": {
                            "type": "object",
                            "properties": {"run": _RUN_REF, "job": _JOB_REF},
                            "required": ["run", "job"],
                        },
                    },
                    "required": ["run", "job"],
                },
            ]
        },
    },
    "type": "object",
    "properties": {
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": _URI,
        "schemaURL": _URI,
        "run": {
            "type": "object",
            "properties": {
                "runId": {"type": "string", "format": "uuid"},
                "facets": {
                    "type": "object",
                    "properties": {"parent": {"$ref": "#/$defs/ParentRunFacet"}},
                    "additionalProperties": {"$ref": "#/$defs/BaseFacet"},
                },
            },
            "required": ["runId"],
        },
        "job": {
            "type": "object",
            "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}, "facets": _FACETS},
            "required": ["namespace", "name"],
        },
        "inputs": {"type": "array", "items": {"$ref": "#/$defs/Dataset"}},
        "outputs": {"type": "array", "items": {"$ref": "#/$defs/Dataset"}},
    },
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
}

_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@_formats.checks("uri", raises=ValueError)
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlparse(value).scheme)


def problems(event: dict) -> list[str]:
    """Where `event` breaks the specification; empty when it is a valid run event."""
    validator = Draft202012Validator(RUN_EVENT, format_checker=_formats)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(event)]
