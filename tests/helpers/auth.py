"""Signing in through the council's identity provider (AUTH_MODE=oidc): tokens signed with the
tests' own key, and a request to the app carrying one."""

from datetime import UTC, datetime, timedelta

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from api.deps import Services
from api.main import create_app

ISSUER, AUDIENCE = "https://login.council.example/", "qsaf-api"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key=RSA_KEY, kid="rsa-1", algorithm="RS256", minutes=5, **claims) -> str:
    now = datetime.now(UTC)
    body = {"sub": "piat1", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + timedelta(minutes=minutes)} | claims
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid})


async def get_audits(settings, engine, directory, bearer: str) -> httpx.Response:
    app = create_app(Services(settings=settings, client=None, engine=engine, directory=directory))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        return await http.get("/audits", headers={"Authorization": f"Bearer {bearer}"})
