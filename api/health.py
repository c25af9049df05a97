"""The probes an orchestrator calls, without signing in: `/livez` (the process answers: restart
it otherwise) and `/readyz` (it can serve: the app database and Temporal answer; send it no
traffic otherwise). They say which dependency failed and nothing more."""

import asyncio
import logging
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import Svc

log = logging.getLogger("qsaf.api")
router = APIRouter(tags=["operations"])
TEMPORAL_TIMEOUT = timedelta(seconds=3)  # inside a probe's usual 5 s
NAMES = {"database": "the database", "temporal": "Temporal"}


class Status(BaseModel):
    status: Literal["ok"]


class NotReady(BaseModel):
    status: Literal["unavailable"]
    failing: list[Literal["database", "temporal"]]
    detail: str


@router.get("/livez", response_model=Status)
async def livez() -> Status:
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses={503: {"model": NotReady, "description": "a dependency does not answer"}})
async def readyz(svc: Svc) -> Status | JSONResponse:
    database, temporal = await asyncio.gather(asyncio.to_thread(_database_answers, svc.engine), _temporal_answers(svc.client))
    failing = [name for name, answered in (("database", database), ("temporal", temporal)) if not answered]
    if not failing:
        return Status(status="ok")
    detail = (
        "not ready: "
        + " and ".join(NAMES[name] for name in failing)
        + (" do not answer" if len(failing) > 1 else " does not answer")
    )
    return JSONResponse(NotReady(status="unavailable", failing=failing, detail=detail).model_dump(), status_code=503)


def _database_answers(engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        return True
    except Exception as error:  # noqa: BLE001 - a probe reports, it does not raise
        log.warning("readiness: the app database did not answer: %s", type(error).__name__)
        return False


async def _temporal_answers(client) -> bool:
    try:
        return await client.service_client.check_health(timeout=TEMPORAL_TIMEOUT)
    except Exception as error:  # noqa: BLE001
        log.warning("readiness: Temporal did not answer: %s", type(error).__name__)
        return False
