"""The acting member of staff comes from the bearer token: `dev-<id>`, or a signed JWT."""

from datetime import datetime, timedelta, timezone

import jwt
import pytest
from fastapi import HTTPException

from api.deps import _staff_id
from models.settings import Settings

JWT = Settings(auth_mode="jwt", jwt_secret="s3cret-for-tests-only-32-bytes!!")


def token(secret: str = JWT.jwt_secret, minutes: int = 5, **claims) -> str:
    exp = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    return jwt.encode({"sub": "piat1", "exp": exp} | claims, secret, algorithm="HS256")


def test_dev_tokens_name_the_staff_member():
    assert _staff_id(Settings(), "dev-tm1") == "tm1"
    with pytest.raises(HTTPException) as refused:
        _staff_id(Settings(), "tm1")
    assert refused.value.status_code == 401


def test_jwt_mode_takes_the_subject_of_a_valid_token():
    assert _staff_id(JWT, token()) == "piat1"


@pytest.mark.parametrize("bad", [token(secret="another-secret-of-enough-length!!"), token(minutes=-5), "dev-piat1"])
def test_jwt_mode_refuses_forged_expired_or_dev_tokens(bad):
    with pytest.raises(HTTPException) as refused:
        _staff_id(JWT, bad)
    assert refused.value.status_code == 401 and "invalid token" in refused.value.detail
