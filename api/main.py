"""The FastAPI app (`uvicorn api.main:app`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api import action_log, codec, errors, health
from api.body_limit import BodyLimit
from api.deps import Services, check_auth_settings
from api.routes import ROUTERS
from api.logs import configure_logging
from api.metrics import ApiMetrics, Observed, serving
from models.settings import Settings, get_settings
from models.staff import directory_for
from database import engine_for
import web
from temporal_client import connect


def settings_of(prepared: Services | None):
    return prepared.settings if prepared is not None else get_settings()


def observe_outermost(app: FastAPI, settings: Settings) -> None:
    """Each request observed (its ID, metrics, log line) outside even the handler that answers an
    unexpected failure, which Starlette puts outside every middleware `add_middleware` adds: that
    answer and that handler's log line carry the request ID too. Inside that, its body bounded
    before anything reads it (api/body_limit.py), and an unexpected failure, once answered and
    logged, kept from the server (errors.Answered)."""
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: Observed(
        BodyLimit(errors.Answered(build()), settings.max_body_bytes, settings.max_import_body_bytes), app.state.metrics
    )


def create_app(prepared: Services | None = None) -> FastAPI:
    """`prepared` lets tests hand in their own client, database and directory."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if prepared is None:
            settings = get_settings()
            configure_logging(settings.log_format)  # after uvicorn's own set-up, which it replaces
            check_auth_settings(settings)
            app.state.services = Services(
                settings=settings,
                client=await connect(settings),
                engine=engine_for(settings),
                directory=directory_for(settings),
            )
        else:
            if prepared.client is None:  # e.g. a test serving the app on its own event loop
                prepared.client = await connect(prepared.settings)
            app.state.services = prepared
        with serving(app.state.metrics, app.state.services.settings):
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
    app.state.metrics = ApiMetrics(lambda: services.engine if (services := getattr(app.state, "services", None)) else None)
    observe_outermost(app, settings_of(prepared))
    errors.install(app)
    action_log.install(app)
    for router in (*ROUTERS, codec.router, health.router, web.router):
        app.include_router(router)
    web.install(app)  # the staff pages' static files and sign-in redirect
    # The Web UI (another origin) calls the codec endpoint from the operator's browser.
    app.add_middleware(codec.CodecCors, origins=settings_of(prepared).codec_cors_origins)

    return app


app = create_app()
