"""Runtime control of the sandbox: arm, list and clear injected faults."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from sandbox.faults import FaultBoard, FaultMode, Provider


class FaultIn(BaseModel):
    """Make the next `count` requests to `provider` fail with `mode`."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider
    mode: FaultMode
    count: int = Field(default=1, ge=1, le=10_000)


class FaultOut(BaseModel):
    """A fault still armed."""

    provider: Provider
    mode: FaultMode
    remaining: int


class FaultListOut(BaseModel):
    """Every fault still armed."""

    faults: list[FaultOut]


def control_router(board: FaultBoard) -> APIRouter:
    """Routes of the fault board under /sandbox/v1."""
    router = APIRouter(prefix="/sandbox/v1", tags=["sandbox"])

    def listing() -> FaultListOut:
        return FaultListOut(
            faults=[
                FaultOut(provider=f.provider, mode=f.mode, remaining=f.remaining)
                for f in board.snapshot()
            ]
        )

    @router.post(
        "/faults", operation_id="sandbox_arm_fault", status_code=201, response_model=FaultListOut
    )
    async def arm_fault(body: FaultIn) -> FaultListOut:
        board.arm(body.provider, body.mode, body.count)
        return listing()

    @router.get("/faults", operation_id="sandbox_list_faults", response_model=FaultListOut)
    async def list_faults() -> FaultListOut:
        return listing()

    @router.delete("/faults", operation_id="sandbox_clear_faults", status_code=204)
    async def clear_faults(
        provider: Annotated[Provider | None, Query()] = None,
    ) -> Response:
        board.clear(provider)
        return Response(status_code=204)

    return router
