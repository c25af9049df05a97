"""The identity provider's keys live as long as its JWKS says they do: a key it withdraws is
refused within OIDC_JWKS_LIFESPAN_SECONDS, a key it adds is taken up (an unknown `kid` reads the
set again, at most once per OIDC_JWKS_COOLDOWN_SECONDS), over http(s) and from a file."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers.auth import AUDIENCE, ISSUER, RSA_KEY, get_audits, token

KEY_B = rsa.generate_private_key(public_exponent=65537, key_size=2048)
LIFESPAN = 0.6  # seconds: long enough for a request or two inside it, short enough to wait out


def jwks(*keys) -> dict:
    """`keys`: (kid, private key) pairs; their public halves, as an identity provider publishes them."""
    return {
        "keys": [
            json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())) | {"kid": kid, "use": "sig"} for kid, key in keys
        ]
    }


class Provider:
    """A JWKS served over http from a thread, counting the requests it answers."""

    def __init__(self, published: dict):
        self.published, self.requests = published, 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                provider.requests += 1
                body = json.dumps(provider.published).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    served = Provider(jwks(("rsa-1", RSA_KEY)))
    yield served
    served.close()


def oidc(settings, url: str, cooldown: float = 0):
    return settings.model_copy(
        update={
            "auth_mode": "oidc",
            "allow_dev_auth": False,
            "oidc_jwks_url": url,
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
            "oidc_jwks_lifespan_seconds": LIFESPAN,
            "oidc_jwks_cooldown_seconds": cooldown,
        }
    )


async def test_a_withdrawn_key_is_refused_after_the_lifespan_and_a_new_one_taken_up(settings, engine, directory, provider):
    chosen = oidc(settings, provider.url)
    a, b = token(), token(key=KEY_B, kid="rsa-2")
    assert (await get_audits(chosen, engine, directory, a)).status_code == 200
    provider.published = jwks(("rsa-2", KEY_B))  # the provider rotates: A withdrawn, B published
    time.sleep(LIFESPAN + 0.2)
    refused = await get_audits(chosen, engine, directory, a)
    assert refused.status_code == 401, refused.text
    assert refused.json()["detail"].startswith("invalid token: ") and "rsa-1" in refused.json()["detail"]
    assert (await get_audits(chosen, engine, directory, b)).status_code == 200


async def test_unknown_kids_read_the_set_again_at_most_once_per_cooldown(settings, engine, directory, provider):
    chosen = oidc(settings, provider.url, cooldown=30)
    assert (await get_audits(chosen, engine, directory, token())).status_code == 200
    for n in range(5):  # made-up kids: refused, without a request to the provider each
        assert (await get_audits(chosen, engine, directory, token(kid=f"made-up-{n}"))).status_code == 401
    assert provider.requests == 1


async def test_a_new_kid_is_fetched_at_once_outside_the_cooldown(settings, engine, directory, provider):
    chosen = oidc(settings, provider.url, cooldown=0).model_copy(update={"oidc_jwks_lifespan_seconds": 300})
    assert (await get_audits(chosen, engine, directory, token())).status_code == 200
    provider.published = jwks(("rsa-1", RSA_KEY), ("rsa-2", KEY_B))  # published before it signs anything
    assert (await get_audits(chosen, engine, directory, token(key=KEY_B, kid="rsa-2"))).status_code == 200
    assert provider.requests == 2


async def test_a_jwks_file_is_read_again_when_it_changes(settings, engine, directory, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(("rsa-1", RSA_KEY))))
    chosen = oidc(settings, path.as_uri()).model_copy(update={"oidc_jwks_lifespan_seconds": 300})
    a, b = token(), token(key=KEY_B, kid="rsa-2")
    assert (await get_audits(chosen, engine, directory, a)).status_code == 200
    assert (await get_audits(chosen, engine, directory, a)).status_code == 200  # from what it read
    path.write_text(json.dumps(jwks(("rsa-2", KEY_B))))  # rotated in place: the change applies at once
    assert (await get_audits(chosen, engine, directory, a)).status_code == 401
    assert (await get_audits(chosen, engine, directory, b)).status_code == 200
