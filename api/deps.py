"""Dependencies: the services the app holds, and the acting member of staff."""

import logging
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from temporalio.client import Client

from models.enums import Role
from models.settings import Settings
from models.staff import StaffDirectory, StaffMember

log = logging.getLogger("qsaf.api")

@dataclass
class Services:
    settings: Settings
    client: Client
    engine: Engine
    directory: StaffDirectory


def services(request: Request) -> Services:
    return request.app.state.services


bearer = HTTPBearer(auto_error=False, description="`dev-<staff id>` with AUTH_MODE=dev")


def current_staff(
    svc: Annotated[Services, Depends(services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StaffMember:
    """The one place a request's actor comes from: its bearer token, never its body."""
    if credentials is None:
        raise _unauthorised("send 'Authorization: Bearer <token>'")
    staff_id = _staff_id(svc.settings, credentials.credentials)
    member = svc.directory.get(staff_id)
    if member is None:
        raise _unauthorised("the token names no one in the staff directory")
    return member


def _staff_id(settings: Settings, token: str) -> str:
    if settings.auth_mode == "dev":
        if not token.startswith("dev-"):
            raise _unauthorised("in dev mode the token is 'dev-<staff id>'")
        return token.removeprefix("dev-")
    _require_usable_key(settings)
    try:  # AUTH_MODE=jwt: a token signed by the council's identity provider; `sub` is the staff ID
        claims = jwt.decode(token, settings.jwt_secret, algorithms=[settings.jwt_algorithm], options={"require": ["sub", "exp"]})
    except jwt.InvalidKeyError as error:
        raise _misconfigured(settings, error) from None
    except jwt.PyJWTError as error:  # any other PyJWT error is about the token the caller sent
        raise _unauthorised(f"invalid token: {error}") from None
    return claims["sub"]


def _require_usable_key(settings: Settings) -> None:
    """A key the server cannot use is the deployment's fault, not the caller's: a 500, not a 401."""
    algorithm = jwt.algorithms.get_default_algorithms().get(settings.jwt_algorithm)
    if algorithm is None:
        raise _misconfigured(settings, jwt.InvalidAlgorithmError("unsupported algorithm"))
    try:
        algorithm.prepare_key(settings.jwt_secret)
    except (jwt.PyJWTError, ValueError, TypeError) as error:  # empty, or the wrong kind of key
        raise _misconfigured(settings, error) from None


def _misconfigured(settings: Settings, error: Exception) -> HTTPException:
    # The reason goes to the log for operators, never the key; the caller learns only that it is not them.
    log.error("AUTH_MODE=jwt cannot verify tokens with JWT_ALGORITHM=%s: %s", settings.jwt_algorithm, error)
    return HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, "authentication is misconfigured")


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


def require_role(member: StaffMember, *roles: Role, action: str) -> None:
    if not any(member.has(r) for r in roles):
        names = " or ".join(r.value for r in roles)
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"only {names} staff can {action}")


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9_.:-]+$",
            description="Any string of your choosing (a UUID will do), new for each action you mean. Send the "
            "same key again when you retry that request after a timeout or a lost answer: you get the first "
            "answer and nothing happens twice. Keys are yours alone and per action.",
        ),
    ] = None,
) -> str | None:
    return key


Actor = Annotated[StaffMember, Depends(current_staff)]
# One dependency for every POST/PUT, so each documents the header the same way on /docs.
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
Svc = Annotated[Services, Depends(services)]
