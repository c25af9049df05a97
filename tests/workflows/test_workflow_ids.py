"""Audit IDs carry the case reference as an HMAC under the deployment's key (WORKFLOW_ID_KEY_FILE
or WORKFLOW_ID_KEY), not as its plain hash: case references are few and guessable, and anyone who
can list workflows could hash each one to read the cases back. Audits allocated before keep
their IDs, and still count against a second audit of their case, cycle and kind."""

import hashlib
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from services.allocation import audit_id_for
from api.deps import Services, check_auth_settings
from api.main import create_app
from models.enums import AuditKind
from models.settings import Settings
from temporal_client import new_id_key_file, workflow_id_key
from tests.helpers.api import Api
from tests.helpers.dates import YEAR, at, cycle, first_working_day
from tests.helpers import allocate, allocation, skip_to

KEY = b"k" * 32


def plain(case_ref: str) -> str:
    return hashlib.sha256(case_ref.encode()).hexdigest()[:10]


def test_the_id_is_keyed_stable_for_a_key_and_not_the_plain_hash():
    january = cycle(1)
    keyed = audit_id_for(january, AuditKind.STANDARD, "C-104233", KEY)
    assert keyed.startswith(f"{january}-std-") and plain("C-104233") not in keyed
    assert keyed == audit_id_for(january, AuditKind.STANDARD, "C-104233", KEY)
    assert keyed != audit_id_for(january, AuditKind.STANDARD, "C-104233", b"another key, thirty-two bytes..")
    assert audit_id_for(january, AuditKind.STANDARD, "C-104234", KEY) != keyed


def test_a_key_file_is_made_private_and_read_back(tmp_path):
    path = tmp_path / "workflow-id-key"
    new_id_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    key = workflow_id_key(Settings(workflow_id_key_file=path))
    assert len(key) >= 32 and key == workflow_id_key(Settings(workflow_id_key_file=path))


async def test_an_allocation_takes_the_keyed_id_and_a_second_is_refused(api, env, client, settings):
    await skip_to(env, at(first_working_day(YEAR, 1)))
    first = await allocate(api)
    assert plain("C-100001") not in first["audit_id"]
    assert first["audit_id"] == audit_id_for(cycle(1), AuditKind.STANDARD, "C-100001", workflow_id_key(settings))
    again = await api.as_("piat1").post("/audits", json=allocation(auditor_id="piat1"))
    assert again.status_code == 409 and first["audit_id"] in again.json()["detail"], again.text


async def test_an_audit_allocated_under_the_plain_hash_still_holds_its_case(api, env, client, settings, engine, directory):
    """Allocated before the key was set (its ID the plain hash): the keyed ID is another
    workflow to Temporal, so it is the list's row that refuses the second audit."""
    await skip_to(env, at(first_working_day(YEAR, 1)))
    before = settings.model_copy(update={"workflow_id_key_file": None})
    app = create_app(Services(settings=before, client=client, engine=engine, directory=directory, clock=env.get_current_time))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        legacy = await allocate(Api(http))
    assert legacy["audit_id"] == f"{cycle(1)}-std-{plain('C-100001')}"
    again = await api.as_("piat1").post("/audits", json=allocation(auditor_id="piat1"))
    assert again.status_code == 409 and legacy["audit_id"] in again.json()["detail"], again.text


@pytest.mark.parametrize(
    "unsafe, says",
    [
        ({"workflow_id_key_file": None, "workflow_id_key": None}, "WORKFLOW_ID_KEY"),
        ({"workflow_id_key_file": None, "workflow_id_key": "too short"}, "at least 32"),
        ({"workflow_id_key_file": "/nonexistent/workflow-id-key"}, "cannot be read"),
    ],
)
def test_oidc_refuses_to_start_without_a_usable_key(settings, unsafe, says):
    update = {
        "auth_mode": "oidc",
        "allow_dev_auth": False,
        "oidc_jwks_url": "https://login.example/jwks",
        "oidc_issuer": "https://login.example/",
        "oidc_audience": "qsaf",
    } | unsafe
    if isinstance(update.get("workflow_id_key"), str):
        update["workflow_id_key"] = SecretStr(update["workflow_id_key"])
    if isinstance(update.get("workflow_id_key_file"), str):
        update["workflow_id_key_file"] = Path(update["workflow_id_key_file"])
    with pytest.raises(RuntimeError, match=says):
        check_auth_settings(settings.model_copy(update=update))
