"""The OpenAPI document tells the truth about errors: every operation may answer 4XX or 5XX with
the bilingual error envelope (FastAPI's own 422 schema, which we never send, is replaced), and
the rules JSON Schema cannot state are listed where they apply (``x-server-rules``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

_TEXT = {"type": "string", "minLength": 1}

ERROR_FIELD_SCHEMA: dict[str, Any] = {
    "title": "ErrorField",
    "type": "object",
    "required": ["field", "code", "message_zh", "message_en"],
    "properties": {"field": _TEXT, "code": _TEXT, "message_zh": _TEXT, "message_en": _TEXT},
}

ERROR_ENVELOPE_SCHEMA: dict[str, Any] = {
    "title": "ErrorEnvelope",
    "description": "Every refusal: a machine code, Chinese and English messages, field issues.",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message_zh", "message_en", "fields"],
            "properties": {
                "code": _TEXT,
                "message_zh": _TEXT,
                "message_en": _TEXT,
                "fields": {"type": "array", "items": {"$ref": "#/components/schemas/ErrorField"}},
                "details": {
                    "type": "object",
                    "description": "Facts to act on, e.g. the open application's id "
                    "(application.already_open)",
                    "additionalProperties": {"type": "string"},
                },
            },
        }
    },
}


_ERROR_RESPONSE = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
}
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def document_error_envelope(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the envelope to every operation of an OpenAPI document (in place, and return it)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorField"] = ERROR_FIELD_SCHEMA
    components["ErrorEnvelope"] = ERROR_ENVELOPE_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["4XX"] = {"description": "Refused (error envelope)", **_ERROR_RESPONSE}
            responses["5XX"] = {"description": "Unavailable or unexpected", **_ERROR_RESPONSE}
    return schema


def install_error_documentation(app: FastAPI) -> None:
    """Make ``app.openapi()`` document the error envelope on every operation."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_error_envelope(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
