"""`/codec`: the Temporal Web UI's codec endpoint, so operators read encrypted payloads in clear.

The UI posts `{"payloads": [...]}` (Temporal's JSON form) to `/codec/decode` and gets them back
decoded. With AUTH_MODE=oidc only a signed-in operator (PIAT) may, the UI passing on their token;
in dev (`make dev`, this machine only) the UI has no token to pass, so it is open.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from api.deps import Services, bearer, current_staff, require_role, services
from models.enums import Role

router = APIRouter(prefix="/codec", tags=["operations"], include_in_schema=False)


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


@router.post("/encode", dependencies=[Depends(operator)])
async def encode(request: Request, svc: Annotated[Services, Depends(services)]) -> dict:
    payloads = json_format.Parse(await request.body(), Payloads())
    encoded = await _codec(svc).encode(payloads.payloads)
    return json_format.MessageToDict(Payloads(payloads=encoded))
