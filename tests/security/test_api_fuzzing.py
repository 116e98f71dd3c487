"""Schemathesis against our own OpenAPI, as every role each operation grants (and once
anonymously): no 5xx, no response that breaks the documented schema, invalid input refused,
valid input not refused (the schema says exactly what the server accepts, issue 28/10), every
4xx in the bilingual error envelope.

Requests go through the in-process API on the test's event loop (so the real worker keeps
running); Hypothesis drives generation in a thread. Reads get the caller's real record ids as
path parameters, so they reach the handlers' logic; writes get generated ids (their record ids
would let random bodies change the shared tenants' state). Roles an operation does not grant
are refused before any input is read, which the authorization matrix proves."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from api.access import ROUTE_ACCESS
from config.settings import Settings
from domain.roles import PLATFORM_WIDE_READERS, Role
from server import create_app
from services.inputs import SERVER_RULES
from tests.integration.conftest import Platform
from tests.security.conftest import SESSION_ENDING, World

pytestmark = pytest.mark.integration

Send = Callable[[dict[str, Any]], httpx.Response]
Refusal = tuple[str | None, str]  # (field, code); no field when the envelope names none
# What a schema-valid request may still get: 401/403 (a caller the operation does not grant, or
# no credentials: the authorization matrix proves who may do what), 404 (generated ids name no
# record), 409 and 410 (a valid request on a record in the wrong state: a loan already paid
# off, an expired offer), 429 (throttles). Not 400, 413, 415 or 422: a refusal of valid input
# passes only when it is one of the rules the document lists for that operation
# (``x-server-rules``: a rule on two fields, on today's date or on stored records).
ACCEPTED_STATUSES = ["2xx", "401", "403", "404", "409", "410", "429"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_STATUSES}}}
)


def _openapi() -> dict[str, Any]:
    return create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]


def documented_rules(spec: dict[str, Any], operation: dict[str, Any]) -> set[Refusal]:
    """The ``x-server-rules`` of an operation: its own and its request body's (through $refs,
    properties, items and unions)."""
    found: set[Refusal] = set()
    seen: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                collect(item)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            seen.add(ref)
            name = ref.rsplit("/", 1)[-1]
            collect(spec["components"]["schemas"][name])
        for rule in node.get(SERVER_RULES, ()):
            found.add((rule["field"], rule["code"]))
        for key, value in node.items():
            if key not in (SERVER_RULES, "$ref"):
                collect(value)

    collect({SERVER_RULES: operation.get(SERVER_RULES, ())})
    for content in operation.get("requestBody", {}).get("content", {}).values():
        collect(content.get("schema"))
    return found


def refusals(response: httpx.Response | Any) -> set[Refusal]:
    """The field issues of an error envelope, or its code when it names no field."""
    try:
        error = response.json()["error"]
        fields = error["fields"]
        if fields:
            return {(f["field"], f["code"]) for f in fields}
        return {(None, error["code"])}
    except (ValueError, KeyError, TypeError):
        return set()


def by_documented_rule(found: set[Refusal], documented: set[Refusal]) -> bool:
    """Whether every refusal is a documented rule of the operation (a refusal naming no field
    matches the rule by its code)."""
    codes = {code for _, code in documented}
    return bool(found) and all(
        pair in documented or (pair[0] is None and pair[1] in codes) for pair in found
    )


RULES: dict[str, set[Refusal]] = {}  # operationId → its documented rules, for the check below


@schemathesis.check
def schema_valid_request_accepted(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, except for a refusal by a rule the document states for this
    operation (JSON Schema cannot say it; the rule's entry says what it is)."""
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and 400 <= response.status_code < 500:
        rules = RULES.get(str(case.operation.definition.raw.get("operationId")), set())
        if by_documented_rule(refusals(response), rules):
            return None
    result: bool | None = positive_data_acceptance(ctx, response, case)
    return result


def _envelope_problem(response: httpx.Response) -> str | None:
    if not 400 <= response.status_code < 500:
        return None
    try:
        error = response.json()["error"]
        if error["code"] and error["message_zh"] and error["message_en"]:
            return None
    except (ValueError, KeyError, TypeError):
        pass
    return f"{response.status_code} without the bilingual envelope: {response.text[:200]!r}"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    schema_valid_request_accepted,
]


def _credentials_mutated(case: Any) -> bool:
    """A negative case whose invalid part is its Authorization header (left out or garbled):
    it is sent as generated, not with the caller's token."""
    if case.meta is None or not case.meta.generation.mode.is_negative:
        return False
    data = case.meta.phase.data
    names = {getattr(data, "parameter", None)}
    names |= {m.parameter for m in getattr(data, "mutations", None) or ()}
    return "Authorization" in names


class _Fuzzer:
    """Sends the generated cases of one schema and collects what breaks."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.failures: list[str] = []
        self.sent = 0

    def check(self, strategy: Any, headers: dict[str, str], label: str, max_examples: int) -> None:
        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            sent = {} if _credentials_mutated(case) else headers
            kwargs = case.as_transport_kwargs(base_url="http://api", headers=sent)
            kwargs.pop("cookies", None)
            try:
                response = self.send(kwargs)
            except UnicodeEncodeError:
                reject()  # a generated header httpx cannot encode: nothing reaches the server
            self.sent += 1
            case.validate_response(response, checks=CHECKS)
            problem = _envelope_problem(response)
            assert problem is None, problem

        try:
            run()
        except Unsatisfiable:
            pass  # nothing to make invalid (no parameters, or all of them fixed)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures
            self.failures.append(f"{label}: {type(exc).__name__}: {exc}"[:1500])


Caller = tuple[str, dict[str, str], dict[str, str]]  # who, headers, path ids


def _fuzz(
    send: Send, callers: dict[Role | None, Caller], max_examples: int, only: str
) -> tuple[list[str], int]:
    """Fuzz every operation as the roles it grants (and once anonymously); roles it does not
    grant are refused before any input is read, which the authorization matrix proves."""
    spec = _openapi()
    schema = schemathesis.openapi.from_dict(spec, config=CONFIG)
    fuzzer = _Fuzzer(send)
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            fuzzer.failures.append(f"the OpenAPI document is invalid: {result.err()}")
            continue
        operation = result.ok()
        if only and only not in operation.label:
            continue
        operation_id = str(operation.definition.raw.get("operationId"))
        RULES[operation_id] = documented_rules(spec, operation.definition.raw)
        if operation_id in SESSION_ENDING:
            continue  # it would end the shared callers' sessions; test_abuse.py covers it
        access = ROUTE_ACCESS.get(operation_id)
        granted: list[Role | None] = [None]
        if access is not None and not access.is_public:
            granted += sorted(access.roles)
        names = {p.name for p in operation.path_parameters}
        is_read = operation.method.upper() == "GET"
        for role in granted:
            who, headers, ids = callers[role]
            fixed = {n: v for n, v in ids.items() if n in names} if is_read else {}
            examples = max_examples if role is not None or access is None or access.is_public else 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=fixed or None
                )
                label = f"{operation.label} as {who} ({mode.value})"
                fuzzer.check(strategy, headers, label, examples)
    return fuzzer.failures, fuzzer.sent


def _file(value: Any) -> Any:
    """What a generated multipart part becomes on the wire: bytes (a number as its text)."""
    if isinstance(value, tuple):
        return (value[0], _file(value[1]), *value[2:])
    if isinstance(value, bytes | str) or hasattr(value, "read"):
        return value
    return json.dumps(value).encode()


def _sendable(kwargs: dict[str, Any]) -> dict[str, Any]:
    if isinstance(kwargs.get("data"), bytes | str):  # a raw body, not form fields
        kwargs["content"] = kwargs.pop("data")
    files = kwargs.get("files")
    if files:
        pairs = files.items() if isinstance(files, dict) else files
        kwargs["files"] = [(name, _file(value)) for name, value in pairs]
    return kwargs


async def _run(platform: Platform, world: World, max_examples: int) -> None:
    loop = asyncio.get_running_loop()

    def send(kwargs: dict[str, Any]) -> httpx.Response:
        request = platform.http.request(**_sendable(kwargs))
        response = asyncio.run_coroutine_threadsafe(request, loop).result(timeout=120)
        response.request.read()  # multipart bodies stream; the checks read them again
        return response

    callers: dict[Role | None, Caller] = {None: ("anonymous", {}, world.a.ids)}
    for role in Role:
        ids = dict(world.a.ids)
        if role in PLATFORM_WIDE_READERS:
            ids["task_id"] = world.review_task_id
        callers[role] = (role.value, world.caller(role), ids)
    only = os.environ.get("FUZZ_ONLY", "")
    failures, sent = await asyncio.to_thread(_fuzz, send, callers, max_examples, only)
    assert not failures, f"{len(failures)} failures in {sent} requests:\n" + "\n\n".join(failures)
    assert sent > 0


async def test_api_survives_fuzzing_as_every_role(platform: Platform, world: World) -> None:
    """The CI run: a few examples per operation, role and mode (a couple of minutes)."""
    await _run(platform, world, int(os.environ.get("FUZZ_MAX_EXAMPLES", "3")))


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("RUN_SLOW"), reason="slow: set RUN_SLOW=1 to run it")
async def test_api_survives_long_fuzzing_as_every_role(platform: Platform, world: World) -> None:
    await _run(platform, world, 50)
