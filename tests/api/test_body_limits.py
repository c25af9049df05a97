"""Every request body is bounded before anything reads it (api/body_limit.py): a declared length
over the limit is refused unread, a body sent in chunks is refused as it passes the limit, and
neither reaches authentication or a route. The case import, a whole file, has a larger limit."""

import httpx
import pytest

from api.deps import Services
from api.main import create_app
from tests.helpers.dates import INVOLVED_SINCE

MB = 1_000_000
PIAT = {"Authorization": "Bearer dev-piat1"}


@pytest.fixture
def app(settings, engine, directory):
    """The app with a route that says whether it ran; no Temporal is needed before a route."""
    app = create_app(Services(settings=settings, client=None, engine=engine, directory=directory))
    app.state.handled = []

    @app.post("/probe")
    async def probe(body: dict) -> dict:
        app.state.handled.append(len(body))
        return {"ok": True}

    return app


def http(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def refused_as_too_large(r: httpx.Response, limit: str) -> None:
    assert r.status_code == 413, r.text[:300]
    assert r.headers["content-type"] == "application/json"
    detail = r.json()["detail"]
    assert f"over the limit of {limit}" in detail and "send less" in detail, detail


async def test_a_two_megabyte_json_body_is_refused_before_the_route_runs(app):
    async with http(app) as client:
        r = await client.post("/probe", json={"text": "x" * (2 * MB)}, headers=PIAT)
        refused_as_too_large(r, "1 MB")
        assert app.state.handled == []
        assert (await client.post("/probe", json={"text": "x" * 1000})).status_code == 200  # under it: read
    assert app.state.handled == [1]


async def test_a_declared_length_over_the_limit_is_answered_without_reading_a_byte(app):
    read = []

    async def receive():
        read.append(1)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/audits",
        "raw_path": b"/audits",
        "root_path": "",
        "query_string": b"",
        "server": ("test", 80),
        "client": ("127.0.0.1", 1),
        "headers": [(b"content-length", str(2 * MB).encode()), (b"host", b"test")],
    }
    await app(scope, receive, send)
    assert read == []
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_a_chunked_body_is_refused_once_it_passes_the_limit_and_read_no_further(app):
    chunk, pulled = b"x" * 65_536, []

    async def endless():
        yield b'{"text": "'
        for _ in range(160):  # 10 MB, were it all read
            pulled.append(1)
            yield chunk
        yield b'"}'

    async with http(app) as client:
        r = await client.post("/probe", content=endless(), headers=PIAT | {"Content-Type": "application/json"})
    assert "content-length" not in r.request.headers  # sent chunked: no length to go by
    refused_as_too_large(r, "1 MB")
    assert len(pulled) <= MB // len(chunk) + 2, len(pulled)
    assert app.state.handled == []


async def chunks(*parts: bytes):
    for part in parts:
        yield part


async def test_an_unauthenticated_oversize_body_is_a_413_not_a_401(app):
    async with http(app) as client:
        r = await client.post("/audits", json={"case_ref": "x" * (2 * MB)})
        refused_as_too_large(r, "1 MB")
        chunked = await client.post("/audits", content=chunks(b"x" * MB, b"x" * MB))
        refused_as_too_large(chunked, "1 MB")
        assert (await client.post("/audits", json={"case_ref": "C-1"})).status_code == 401  # under the limit: auth


async def test_the_case_import_takes_a_file_between_the_two_limits(app, settings):
    """2 MB of CSV (an export with a wide column the import ignores): over the JSON routes' limit,
    under the import's."""
    header = "case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id,notes\n"
    rows = [f"C-{n:06d},safeguarding,sw1,{INVOLVED_SINCE.isoformat()},iro1,{'n' * 1000}\n" for n in range(2000)]
    csv = (header + "".join(rows)).encode()
    assert settings.max_body_bytes < len(csv) < settings.max_import_body_bytes
    async with http(app) as client:
        r = await client.post("/cases/import", content=csv, headers=PIAT | {"Content-Type": "text/csv"})
        assert r.status_code == 200, r.text[:300]
        assert r.json() == {"imported": 2000, "ignored_columns": ["notes"]}
        too_big = await client.post("/cases/import", content=b"x" * (settings.max_import_body_bytes + 1), headers=PIAT)
        refused_as_too_large(too_big, "5 MB")


async def test_the_limits_are_settings(settings, engine, directory):
    small = settings.model_copy(update={"max_body_bytes": 2000})
    app = create_app(Services(settings=small, client=None, engine=engine, directory=directory))
    async with http(app) as client:
        refused_as_too_large(await client.post("/audits", json={"case_ref": "x" * 3000}, headers=PIAT), "2 KB")
