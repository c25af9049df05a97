"""Who is who. AUTH_MODE=oidc: JWTs from the council's identity provider, checked against its
published keys (JWKS); the tests sign their own with test keys. AUTH_MODE=dev (`dev-<staff id>`)
only with ALLOW_DEV_AUTH=true: the API refuses to start otherwise."""

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, UTC

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from api.deps import Services, _staff_id
from api.main import create_app
from tests.helpers.auth import AUDIENCE, ISSUER, RSA_KEY, get_audits, token
from tests.helpers.web import SESSION, Pages

EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def oidc(settings, tmp_path):
    """The identity provider's published keys, served as a file (OIDC_JWKS_URL may be file://)."""
    keys = []
    for kid, key, alg in (("rsa-1", RSA_KEY, jwt.algorithms.RSAAlgorithm), ("ec-1", EC_KEY, jwt.algorithms.ECAlgorithm)):
        jwk = json.loads(alg.to_jwk(key.public_key()))
        keys.append(jwk | {"kid": kid, "use": "sig"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": keys}))
    return settings.model_copy(
        update={
            "auth_mode": "oidc",
            "allow_dev_auth": False,
            "oidc_jwks_url": jwks.as_uri(),
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
        }
    )


def unsigned(alg: str, kid: str = "rsa-1", secret: bytes | None = None) -> str:
    """A token PyJWT will not make: `alg: none`, or HS256 signed with the public key as its secret."""

    def part(data) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(datetime.now(UTC).timestamp())
    signing_input = f"{part({'alg': alg, 'kid': kid, 'typ': 'JWT'})}.{part({'sub': 'piat1', 'iss': ISSUER, 'aud': AUDIENCE, 'exp': now + 300})}"
    signature = b"" if secret is None else hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@pytest.mark.parametrize("kid, key, algorithm", [("rsa-1", RSA_KEY, "RS256"), ("ec-1", EC_KEY, "ES256")])
async def test_a_valid_token_names_the_staff_member(oidc, engine, directory, kid, key, algorithm):
    r = await get_audits(oidc, engine, directory, token(key, kid, algorithm))
    assert r.status_code == 200, r.text
    assert _staff_id(oidc, token(sub="tm1")) == "tm1"


def test_the_staff_id_can_come_from_another_claim(oidc):
    settings = oidc.model_copy(update={"oidc_staff_claim": "employee_id"})
    assert _staff_id(settings, token(employee_id="sw1")) == "sw1"


BAD = {
    "expired": token(minutes=-5),
    "not yet valid": token(nbf=datetime.now(UTC) + timedelta(minutes=10)),
    "wrong audience": token(aud="another-app"),
    "wrong issuer": token(iss="https://evil.example/"),
    "bad signature": token(key=OTHER_KEY),
    "alg none": unsigned("none"),
    "HS256 with the public key as secret": unsigned("HS256", secret=public_pem(RSA_KEY)),
    "unknown kid": token(kid="rotated-away"),
    "not a JWT": "dev-piat1",
}


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
async def test_every_other_token_is_a_json_401_with_a_reason(oidc, engine, directory, bad):
    r = await get_audits(oidc, engine, directory, bad)
    assert r.status_code == 401, r.text
    assert r.json()["detail"].startswith("invalid token: ") and r.headers["WWW-Authenticate"] == "Bearer"


async def test_an_unreachable_identity_provider_is_a_json_503(oidc, engine, directory, tmp_path):
    settings = oidc.model_copy(update={"oidc_jwks_url": (tmp_path / "gone.json").as_uri()})
    r = await get_audits(settings, engine, directory, token())
    assert r.status_code == 503 and "sign-in cannot be checked" in r.json()["detail"]


def test_dev_tokens_name_the_staff_member(settings):
    assert _staff_id(settings, "dev-tm1") == "tm1"


@pytest.mark.parametrize(
    "unsafe",
    [
        {"auth_mode": "dev", "allow_dev_auth": False},  # anyone could act as anyone
        {"auth_mode": "oidc", "oidc_jwks_url": ""},  # no identity provider to check tokens against
    ],
)
def test_the_api_refuses_to_start_without_real_sign_in(settings, engine, directory, unsafe):
    with pytest.raises(RuntimeError):
        create_app(Services(settings=settings.model_copy(update=unsafe), client=None, engine=engine, directory=directory))


async def test_the_pages_sign_in_takes_the_councils_token_into_a_cookie(oidc, engine, directory):
    """The staff pages (web/session.py) check the cookie's token by the bearer token's code."""
    app = create_app(Services(settings=oidc, client=None, engine=engine, directory=directory))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        page = await http.get("/app/sign-in")
        assert 'name="token"' in page.text and "(tm2)" not in page.text  # no directory to pick from
        anyone = Pages(http, None)  # the sign-in form's token, as a browser sends it
        refused = await anyone.post("/app/sign-in", {"token": token(minutes=-5), "next": "/app/audits"})
        assert refused.status_code == 401 and "invalid token: " in refused.text
        signed_in = await anyone.post("/app/sign-in", {"token": token(sub="tm1"), "next": "/app/audits"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/app/audits"
        cookie = {"Cookie": f"{SESSION}={token(sub='tm1')}"}
        assert "Taylor Manager (tm1)" in (await http.get("/app/audits", headers=cookie)).text
        expired = await http.get("/app/audits", headers={"Cookie": f"{SESSION}={token(minutes=-5)}"})
        assert expired.status_code == 303 and expired.headers["location"] == "/app/sign-in?next=/app/audits"
        assert (await http.get("/audits", headers=cookie)).status_code == 401  # the API: bearer only
