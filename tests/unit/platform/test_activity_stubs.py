"""The workflows' typed activity table (workflows/activity_stubs.py) cannot drift from the
activities the worker registers: the same names, each with the same argument and result types,
and no workflow schedules an activity except through it."""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity

import config.crypto
from config.settings import Settings
from db.session import create_engine, create_session_factory
from worker import build_activities, issuing
from workflows import activity_stubs
from workflows.activity_stubs import STUBS, Stub

WORKFLOWS = Path(__file__).resolve().parents[3] / "workflows"
# The one module that hands calls to Temporal (the retry classes of activity_options.py).
RUNNER = "activity_options.py"


@pytest.fixture(scope="module")
def registered() -> Iterator[dict[str, Callable[..., Any]]]:
    """Every activity of the platform worker by its registered name, built as worker.py builds
    them (nothing connects: the engine is lazy, documents render on a thread)."""
    cipher = config.crypto._field_cipher  # build_activities configures the process's cipher
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    settings = Settings(_env_file=None, document_render_processes=0)  # type: ignore[call-arg]
    try:
        found: dict[str, Callable[..., Any]] = {}
        for fn in build_activities(settings, create_session_factory(engine)):
            definition = activity._Definition.must_from_callable(fn)
            assert definition.name not in found, f"{definition.name} registered twice"
            found[str(definition.name)] = fn
        yield found
    finally:
        config.crypto.configure_field_cipher(cipher)


def _signature(fn: Callable[..., Any]) -> tuple[type[Any], type[Any] | None]:
    """The one argument's type and the result type (None for ``-> None``) of an activity."""
    hints = typing.get_type_hints(fn)
    parameters = list(inspect.signature(fn).parameters)
    assert len(parameters) == 1, f"{fn.__qualname__} takes {parameters}, not one argument"
    result = hints["return"]
    return hints[parameters[0]], None if result is types.NoneType else result


def test_the_table_names_every_registered_activity_once(
    registered: dict[str, Callable[..., Any]],
) -> None:
    names = [stub.name for stub in STUBS]
    assert len(names) == len(set(names)), "an activity is in the table twice"
    assert sorted(names) == sorted(registered)


def test_each_stub_is_named_as_its_activity() -> None:
    for attribute, value in vars(activity_stubs).items():
        if isinstance(value, Stub):
            assert value.name == attribute


@pytest.mark.parametrize("stub", STUBS, ids=lambda stub: stub.name)
def test_each_stub_has_the_types_of_its_activity(
    stub: Stub[Any, Any], registered: dict[str, Callable[..., Any]]
) -> None:
    arg_type, result_type = _signature(registered[stub.name])
    assert stub.arg_type is arg_type, f"{stub.name} takes {arg_type}, not {stub.arg_type}"
    assert stub.result_type is result_type, (
        f"{stub.name} returns {result_type}, not {stub.result_type}"
    )


def test_the_documents_worker_runs_the_same_document_activities(
    registered: dict[str, Callable[..., Any]],
) -> None:
    """The documents queue's worker registers activities of the table with the same types."""
    documents = registered["issue_offer_letter"].__self__  # type: ignore[attr-defined]
    for fn in issuing(documents):
        name = str(activity._Definition.must_from_callable(fn).name)
        assert _signature(fn) == _signature(registered[name])


def test_workflows_schedule_activities_only_through_the_table() -> None:
    """A name typed into ``execute_activity`` would bypass the table's types."""
    scheduling = re.compile(r"\bexecute_(?:local_)?activity(?:_method|_class)?\(")
    bypassing = [
        source.name
        for source in sorted(WORKFLOWS.glob("*.py"))
        if source.name != RUNNER and scheduling.search(source.read_text(encoding="utf-8"))
    ]
    assert bypassing == []
