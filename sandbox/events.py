"""Post-loan events (贷后事件) a tester or a demo arms per enterprise, so the next answers of the
credit bureau and the tax provider change as real data would: a new overdue, a court judgment,
tax arrears, a revenue drop. Held in memory; cleared by DELETE or a restart."""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from sandbox.enterprises import require_known_enterprise


class EnterpriseEvent(StrEnum):
    """What happened to the enterprise since its data was last read."""

    NEW_OVERDUE = "new_overdue"  # bureau: currently overdue, one more overdue in 24 months
    COURT_JUDGMENT = "court_judgment"  # bureau public record: a judgment against it (民事判决)
    TAX_ARREARS = "tax_arrears"  # tax: unpaid tax (欠税)
    REVENUE_DROP = "revenue_drop"  # tax: the latest year's revenue 40 % below the year before


class EventBoard:
    """Armed events by USCC; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, set[EnterpriseEvent]] = {}

    def arm(self, uscc: str, event: EnterpriseEvent) -> None:
        with self._lock:
            self._events.setdefault(uscc, set()).add(event)

    def of(self, uscc: str) -> frozenset[EnterpriseEvent]:
        with self._lock:
            return frozenset(self._events.get(uscc, ()))

    def clear(self, uscc: str | None = None) -> None:
        with self._lock:
            if uscc is None:
                self._events.clear()
            else:
                self._events.pop(uscc, None)


class EventIn(BaseModel):
    """Arm one event for one enterprise."""

    model_config = ConfigDict(extra="forbid")

    uscc: str = Field(min_length=18, max_length=18)
    event: EnterpriseEvent


class EventsOut(BaseModel):
    """The events armed for one enterprise."""

    uscc: str
    events: list[EnterpriseEvent]


def events_router(board: EventBoard) -> APIRouter:
    """Routes of the event board under /sandbox/v1/events."""
    router = APIRouter(prefix="/sandbox/v1/events", tags=["sandbox"])

    @router.post("", operation_id="sandbox_arm_event", status_code=201, response_model=EventsOut)
    async def arm_event(body: EventIn) -> EventsOut:
        require_known_enterprise(body.uscc)
        board.arm(body.uscc, body.event)
        return EventsOut(uscc=body.uscc, events=sorted(board.of(body.uscc)))

    @router.get("", operation_id="sandbox_list_events", response_model=EventsOut)
    async def list_events(uscc: Annotated[str, Query(min_length=18, max_length=18)]) -> EventsOut:
        return EventsOut(uscc=uscc, events=sorted(board.of(uscc)))

    @router.delete("", operation_id="sandbox_clear_events", status_code=204)
    async def clear_events(
        uscc: Annotated[str | None, Query(min_length=18, max_length=18)] = None,
    ) -> Response:
        board.clear(uscc)
        return Response(status_code=204)

    return router
