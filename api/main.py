"""The FastAPI app (`uvicorn api.main:app`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel
from sqlalchemy import text

from api import (action_log, allocation, audit_tools, audits, cases, codec, cycles, disputes, errors, moderation, my_work,
                 reports, safety, selections, self_selection)
from api.deps import Services, Svc, check_auth_settings
from models.settings import get_settings
from models.staff import StaffDirectory
from database import engine_for
import web
from temporal_client import connect


def settings_of(prepared: Services | None):
    return prepared.settings if prepared is not None else get_settings()


def create_app(prepared: Services | None = None) -> FastAPI:
    """`prepared` lets tests hand in their own client, database and directory."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if prepared is None:
            settings = get_settings()
            check_auth_settings(settings)
            app.state.services = Services(
                settings=settings,
                client=await connect(settings),
                engine=engine_for(settings),
                directory=StaffDirectory.load(settings.staff_directory),
            )
        else:
            if prepared.client is None:  # e.g. a test serving the app on its own event loop
                prepared.client = await connect(prepared.settings)
            app.state.services = prepared
        yield

    # FastAPIOffline: FastAPI whose /docs and /redoc load Swagger UI and ReDoc from the app, not a
    # CDN (a blank page on a council machine with no route out).
    app = FastAPIOffline(
        title="Quality Standards Audit Framework (Children)",
        description="Audits, their deadlines and escalations, run as durable Temporal workflows.",
        version="0.1.0",
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,  # operation IDs = the permission table's names
    )
    if prepared is not None:
        check_auth_settings(prepared.settings)
        app.state.services = prepared  # also without a lifespan (httpx's ASGI transport)
    errors.install(app)
    action_log.install(app)
    for module in (allocation, audits, audit_tools, disputes, safety, self_selection, cases, selections, cycles,
                   moderation, reports, my_work, action_log, codec, web):
        app.include_router(module.router)
    web.install(app)  # the staff pages' static files and sign-in redirect
    # The Web UI (another origin) calls the codec endpoint from the operator's browser.
    app.add_middleware(CORSMiddleware, allow_origins=settings_of(prepared).codec_cors_origins, allow_methods=["POST"],
                       allow_headers=["Authorization", "Content-Type", "X-Namespace"], allow_credentials=True)

    class Health(BaseModel):
        status: str
        database: bool
        temporal: bool

    @app.get("/health", response_model=Health, tags=["operations"])
    async def health(svc: Svc) -> Health:
        try:
            with svc.engine.connect() as connection:
                connection.execute(text("select 1"))
            database = True
        except Exception:  # noqa: BLE001 - health reports, it does not raise
            database = False
        try:
            temporal = await svc.client.service_client.check_health()
        except Exception:  # noqa: BLE001
            temporal = False
        return Health(status="ok" if database and temporal else "degraded", database=database, temporal=temporal)

    return app


app = create_app()
