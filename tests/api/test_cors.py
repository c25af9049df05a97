"""Cross-origin calls with credentials are for the Temporal Web UI's codec calls alone
(`CODEC_CORS_ORIGINS`): no other route answers another origin, and the codec only decodes."""

import base64
from types import SimpleNamespace

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from api.deps import Services
from api.main import create_app
from temporal_client import codec_for, data_converter

UI = "http://localhost:8233"  # CODEC_CORS_ORIGINS's default: `make dev`'s Web UI


@pytest.fixture
async def http(settings, engine, directory):
    assert settings.codec_cors_origins == [UI]
    # The codec needs only the client's data converter: no Temporal server for these calls.
    client = SimpleNamespace(data_converter=data_converter(codec_for(settings)))
    app = create_app(Services(settings=settings, client=client, engine=engine, directory=directory))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


def preflight(http: httpx.AsyncClient, path: str, method: str = "POST"):
    return http.options(
        path,
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def cors_headers(r: httpx.Response) -> dict:
    return {k: v for k, v in r.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize(
    "path, method",
    [("/audits", "POST"), ("/audits", "GET"), ("/action-log", "GET"), ("/app/audits", "GET"), ("/cases/import", "POST")],
)
async def test_no_route_but_the_codec_answers_a_preflight_from_the_web_ui(http, path, method):
    r = await preflight(http, path, method)
    assert cors_headers(r) == {}, r.headers


async def test_a_credentialed_call_from_the_web_ui_to_another_route_gets_no_cors_headers(http):
    r = await http.get("/audits", headers={"Origin": UI, "Authorization": "Bearer dev-piat1", "Cookie": "x=y"})
    assert cors_headers(r) == {}, r.headers


async def test_the_codecs_decode_answers_the_web_ui_with_credentials(http, settings):
    r = await preflight(http, "/codec/decode")
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == UI
    assert r.headers["access-control-allow-credentials"] == "true"
    [sealed] = await codec_for(settings).encode([Payload(data=b'"C-3"', metadata={"encoding": b"json/plain"})])
    body = json_format.MessageToDict(Payloads(payloads=[sealed]))
    r = await http.post("/codec/decode", json=body, headers={"Origin": UI, "Authorization": "Bearer dev-piat1"})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == UI
    assert base64.b64decode(r.json()["payloads"][0]["data"]) == b'"C-3"'


async def test_another_origin_gets_no_cors_headers_from_the_codec_either(http):
    r = await http.options("/codec/decode", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers


async def test_the_codec_does_not_encode(http):
    """Sealing whatever is sent with the payload key would let anyone with the operator's rights
    forge payloads; the UI only decodes, its write actions being off."""
    body = json_format.MessageToDict(Payloads(payloads=[Payload(data=b'"x"', metadata={"encoding": b"json/plain"})]))
    r = await http.post("/codec/encode", json=body, headers={"Origin": UI, "Authorization": "Bearer dev-piat1"})
    assert r.status_code == 404, r.text
