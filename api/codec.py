"""`/codec`: the Temporal Web UI's codec endpoint, so operators read encrypted payloads in clear.

The UI posts `{"payloads": [...]}` (Temporal's JSON form) to `/codec/decode` and gets them back
decoded. With AUTH_MODE=oidc only a signed-in operator (PIAT) may, the UI passing on their token;
in dev (`make dev`, this machine only) the UI has no token to pass, so it is open.

There is no `/codec/encode`: the UI calls it only for its write actions (signals, updates,
starting a workflow), which are off (`TEMPORAL_DISABLE_WRITE_ACTIONS`), and it would seal
whatever it was sent with the payload key, a forger's tool. The UI, at another origin, calls
with credentials: CORS covers these routes alone (`CodecCors`), never the rest of the API.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf import json_format
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from api.deps import Services, bearer, current_staff, require_role, services
from models.enums import Role

PREFIX = "/codec"
router = APIRouter(prefix=PREFIX, tags=["operations"], include_in_schema=False)


class CodecCors:
    """CORS with credentials for the Web UI's origins (CODEC_CORS_ORIGINS) on `/codec/...` only:
    elsewhere a browser at those origins gets no CORS answer, so a page there cannot call the
    rest of the API with the operator's credentials."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST"],
            allow_credentials=True,
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(f"{PREFIX}/"):
            return await self.cors(scope, receive, send)
        await self.app(scope, receive, send)


async def operator(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    if svc.settings.auth_mode == "dev" and credentials is None:
        return
    require_role(await current_staff(request, svc, credentials), Role.PIAT, action="read workflow payloads")


def _codec(svc: Services) -> PayloadCodec:
    """The codec the API's own Temporal client seals and opens payloads with."""
    codec = svc.client.data_converter.payload_codec
    if codec is None:
        raise HTTPException(404, "payloads are not encrypted here (PAYLOAD_KEYS_FILE is not set)")
    return codec


@router.post("/decode", dependencies=[Depends(operator)])
async def decode(request: Request, svc: Annotated[Services, Depends(services)]) -> dict:
    payloads = json_format.Parse(await request.body(), Payloads())
    decoded = await _codec(svc).decode(payloads.payloads)
    return json_format.MessageToDict(Payloads(payloads=decoded))
