"""A bound on every request body, checked before anything reads it: authentication, the routes'
models, the staff pages' forms and the case import all read a body whole, so without it anyone
who can reach the port (signed in or not) could make the API hold any number of megabytes.

A declared `Content-Length` over the limit is answered at once, unread; a body sent in chunks is
counted as it arrives and refused as soon as it passes the limit, the rest never read."""

import json

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

IMPORT_PATH = "/cases/import"  # Mosaic's open-case export: the one body that is a whole file


class BodyTooLarge(HTTPException):
    """Raised from `receive` to whoever reads past the limit, to stop them. An HTTPException, which
    FastAPI's body parsing lets through and no layer logs as an unexpected failure."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    size = f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit / 1000:g} KB"
    return f"the request body is over the limit of {size}: send less (a shorter text, fewer rows) or split it up"


class BodyLimit:
    """Outside the app (api/main.py), so a refusal reads no token and no byte past the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_import_bytes: int) -> None:
        self.app, self.max_bytes, self.max_import_bytes = app, max_bytes, max_import_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.max_import_bytes if scope["path"] == IMPORT_PATH else self.max_bytes
        if _declared(scope) > limit:
            return await _refuse(send, limit)
        received, answered, refused = 0, False, False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise BodyTooLarge(limit)
            return message

        async def answer(message: Message) -> None:
            nonlocal answered
            if refused:  # the app's own answer to a body cut short: the 413 below goes instead
                return
            if message["type"] == "http.response.start":
                answered = True
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not refused:  # a reader may turn the refusal into an error of its own
                raise
        if refused and not answered:
            await _refuse(send, limit)


def _declared(scope: Scope) -> int:
    """The body's declared length; 0 when none is declared (chunked) or it is not a number,
    which the server refuses itself."""
    value = Headers(scope=scope).get("content-length", "")
    return int(value) if value.isdigit() else 0


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": too_large(limit)}).encode()
    # `connection: close`: the rest of the body is never read, so the connection cannot carry
    # another request.
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
