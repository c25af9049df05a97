"""Dependencies: the services the app holds, a database session, the acting member of staff and
the request's clock."""

import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname
from typing import Annotated

import jwt
from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from models.enums import Role
from models.settings import Settings
from models.staff import StaffMember
from services.context import Services
from temporal_client import workflow_id_key

log = logging.getLogger("qsaf.api")


# The dependencies every request resolves are coroutines: FastAPI runs a plain `def` dependency
# in its thread pool, a hop that each staff action paid three times over (`make bench`).
async def services(request: Request) -> Services:
    return request.app.state.services


bearer = HTTPBearer(auto_error=False, description="a JWT from the council's identity provider (`dev-<staff id>` in dev)")
SIGNING_ALGORITHMS = ["RS256", "ES256"]  # asymmetric only: never `none`, never a shared secret


def check_auth_settings(settings: Settings) -> None:
    """Refuse to start rather than serve a deployment where anyone can act as anyone."""
    if settings.auth_mode == "dev" and not settings.allow_dev_auth:
        raise RuntimeError(
            "AUTH_MODE=dev lets anyone act as anyone: it needs ALLOW_DEV_AUTH=true as well "
            "(make dev and the tests set it); production uses AUTH_MODE=oidc"
        )
    if settings.auth_mode == "oidc" and not (settings.oidc_jwks_url and settings.oidc_issuer and settings.oidc_audience):
        raise RuntimeError("AUTH_MODE=oidc needs OIDC_JWKS_URL, OIDC_ISSUER and OIDC_AUDIENCE")
    # Read now, so that a key file that cannot be read stops the start, not the first allocation.
    if workflow_id_key(settings) is None:
        if settings.auth_mode == "oidc":
            raise RuntimeError(
                "AUTH_MODE=oidc needs WORKFLOW_ID_KEY_FILE (or WORKFLOW_ID_KEY): without it audit IDs "
                "carry a plain hash of the case reference, which anyone who can list workflows can reverse"
            )
        log.warning("WORKFLOW_ID_KEY_FILE is not set: audit IDs carry a plain hash of the case reference")


async def current_staff(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StaffMember:
    """The one place an API request's actor comes from: its bearer token, never its body. A
    token checked against the issuer's keys goes to a thread, as a key look-up may fetch them."""
    if credentials is None:
        raise _unauthorised("send 'Authorization: Bearer <token>'")
    if svc.settings.auth_mode == "dev":
        return staff_for_token(request, svc, credentials.credentials)
    return await run_in_threadpool(staff_for_token, request, svc, credentials.credentials)


def staff_for_token(request: Request, svc: Services, token: str) -> StaffMember:
    """The member of staff a token names, checked as `AUTH_MODE` says (401 otherwise): the API's
    bearer token and the staff pages' sign-in cookie (web/session.py) both come through here."""
    staff_id = _staff_id(svc.settings, token)
    member = svc.directory.get(staff_id)
    if member is None:
        raise _unauthorised("the token names no one in the staff directory")
    request.state.actor_id = member.id  # for the action log (api/action_log.py)
    return member


def _staff_id(settings: Settings, token: str) -> str:
    if settings.auth_mode == "dev":
        if not token.startswith("dev-"):
            raise _unauthorised("in dev mode the token is 'dev-<staff id>'")
        return token.removeprefix("dev-")
    return _verified_claim(settings, token)


def _verified_claim(settings: Settings, token: str) -> str:
    """AUTH_MODE=oidc: the token's signature against the issuer's published keys (by `kid`), its
    algorithm, issuer, audience, expiry and not-before; then the claim naming the staff ID."""
    try:
        jwks = _jwks(settings.oidc_jwks_url, settings.oidc_jwks_lifespan_seconds, settings.oidc_jwks_cooldown_seconds)
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=SIGNING_ALGORITHMS,
            audience=settings.oidc_audience,
            issuer=settings.oidc_issuer,
            options={"require": ["exp", "iss", "aud", settings.oidc_staff_claim]},
            leeway=30,
        )
    except jwt.PyJWKClientConnectionError as error:
        log.error("the identity provider's keys could not be read from %s: %s", settings.oidc_jwks_url, type(error).__name__)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "sign-in cannot be checked just now; try again shortly"
        ) from None
    except jwt.PyJWTError as error:  # about the token the caller sent: its reason helps them
        raise _unauthorised(f"invalid token: {error}") from None
    return str(claims[settings.oidc_staff_claim])


@lru_cache(maxsize=4)
def _jwks(url: str, lifespan: float, cooldown: float) -> "jwt.PyJWKClient | FileJwks":
    """One client per JWKS URL. Its keys are trusted as long as the set they came in: after
    `lifespan` the set is read again, so a key the identity provider withdrew is refused from
    then on. A `kid` not in the set reads it again at once (a rotation), at most once per
    `cooldown` (PyJWT's `cooldown_duration`, from 2.14)."""
    if url.startswith("file://"):
        return FileJwks(Path(url2pathname(urlparse(url).path)), lifespan)
    # No `cache_keys`: that cache keeps each key it has handed out for ever, withdrawn or not.
    return jwt.PyJWKClient(url, lifespan=lifespan, cooldown_duration=cooldown)


class FileJwks:
    """The issuer's keys from a file (PyJWKClient reads only http/https): for a deployment that
    distributes its JWKS as a file, and for tests. Parsed once per version of the file: read again
    as soon as it changes (its inode, size or modification time), so a rotation applies at once,
    and at least every `lifespan` besides (a rewrite within the file system's timestamp
    granularity, to the same size, leaves those unchanged)."""

    def __init__(self, path: Path, lifespan: float):
        self.path, self.lifespan = path, lifespan
        self._lock = threading.Lock()  # look-ups come from the thread pool
        self._read: tuple[tuple[int, int, int], float, jwt.PyJWKSet] | None = None  # (version, when, keys)

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys().keys:
            if key.key_id == kid:
                return key
        raise jwt.PyJWKClientError(f'Unable to find a signing key that matches: "{kid}"')

    def _keys(self) -> jwt.PyJWKSet:
        with self._lock:
            try:
                stat = self.path.stat()
                version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
                now = time.monotonic()
                if self._read is None or self._read[0] != version or now - self._read[1] > self.lifespan:
                    self._read = (version, now, jwt.PyJWKSet.from_json(self.path.read_text()))
            except OSError as error:
                raise jwt.PyJWKClientConnectionError(f"cannot read {self.path}: {error}") from None
            return self._read[2]


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


def require_role(member: StaffMember, *roles: Role, action: str) -> None:
    if not any(member.has(r) for r in roles):
        names = " or ".join(r.value for r in roles)
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"only {names} staff can {action}")


async def idempotency_key(
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


def session(svc: Annotated[Services, Depends(services)]) -> Iterator[Session]:
    """A plain generator: FastAPI opens and closes it in its thread pool, as it runs the plain
    `def` routes that read with it, so neither the read nor the connection's return to the pool
    blocks the event loop."""
    with Session(svc.engine) as opened:
        yield opened


async def current_time(svc: Annotated[Services, Depends(services)]) -> datetime:
    return await svc.clock()


Actor = Annotated[StaffMember, Depends(current_staff)]
# One dependency for every POST/PUT, so each documents the header the same way on /docs.
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
Svc = Annotated[Services, Depends(services)]
SessionDep = Annotated[Session, Depends(session)]
Now = Annotated[datetime, Depends(current_time)]
