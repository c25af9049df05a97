"""Data at rest: every workflow payload is encrypted with the configured key; Temporal's store
holds no case reference or rationale in clear; an old key still opens what it sealed."""

import base64
import copy
import dataclasses
import json

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import SerializationContext, WithSerializationContext
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from temporal_client import EncryptionCodec, codec_for, data_converter
from worker import ContextFreeSandbox, takes_no_context, workflow_runner
from tests.helpers.dates import YEAR, at, cycle, first_working_day
from tests.helpers import allocate, complete, skip_to, submit


async def test_the_raw_history_holds_no_case_reference_or_rationale_in_clear(api, env, client):
    await skip_to(env, at(first_working_day(YEAR, 1)))  # the January cycle opens
    audit_id = (await allocate(api, case_ref="C-SECRET-777"))["audit_id"]
    await complete(api, env, audit_id)
    await submit(api, audit_id)
    blind = Client(client.service_client, namespace=client.namespace, data_converter=pydantic_data_converter)
    raw = (await blind.get_workflow_handle(f"audit-{audit_id}").fetch_history()).to_json()
    assert "C-SECRET-777" not in raw and "overall rationale" not in raw and "evidence for" not in raw
    assert base64.b64encode(b"binary/encrypted").decode() in raw  # sealed, not dropped
    view = await client.get_workflow_handle(f"audit-{audit_id}").query("view")  # the keyed client reads it
    assert view["case_ref"] == "C-SECRET-777"


async def test_an_old_key_still_opens_what_it_sealed_after_rotation():
    old, new = b"o" * 32, b"n" * 32
    old_id, new_id = cycle(5, YEAR - 1), cycle(11, YEAR - 1)  # key IDs named for the month each was made
    sealed = await EncryptionCodec({old_id: old}, old_id).encode([Payload(data=b'"C-1"', metadata={"encoding": b"json/plain"})])
    rotated = EncryptionCodec({old_id: old, new_id: new}, new_id)
    [opened] = await rotated.decode(sealed)
    assert opened.data == b'"C-1"'
    [resealed] = await rotated.encode([opened])
    assert resealed.metadata["encryption-key-id"] == new_id.encode()
    with pytest.raises(ValueError, match="no longer configured"):
        await EncryptionCodec({new_id: new}, new_id).decode(sealed)


async def test_the_web_uis_codec_endpoint_decodes_for_operators(api, env, settings):
    [sealed] = await codec_for(settings).encode([Payload(data=b'"C-2"', metadata={"encoding": b"json/plain"})])
    body = json_format.MessageToDict(Payloads(payloads=[sealed]))
    r = await api.as_("piat1").post("/codec/decode", json=body)
    assert r.status_code == 200, r.text
    [decoded] = r.json()["payloads"]
    assert base64.b64decode(decoded["data"]) == b'"C-2"'
    assert (await api.as_("sw1").post("/codec/decode", json=body)).status_code == 403
    r = await api.http.post("/codec/decode", json=body)  # dev: the UI has no token to pass on
    assert r.status_code == 200 and json.loads(base64.b64decode(r.json()["payloads"][0]["data"])) == "C-2"


class PerWorkflowCodec(EncryptionCodec, WithSerializationContext):
    """A codec that would seal each workflow's payloads differently: it needs the context."""

    def with_context(self, context: SerializationContext) -> "PerWorkflowCodec":
        return copy.copy(self)


def test_the_sandbox_is_asked_for_no_serialization_context_only_where_none_is_taken(settings):
    # The worker's converter seals every payload the same in every context: the SDK's answer
    # for "no context" is the very same converter, so the sandbox is not asked (worker.py).
    sealed = data_converter(codec_for(settings))
    assert takes_no_context(sealed)
    assert isinstance(workflow_runner(sealed), ContextFreeSandbox)
    # One that takes a context gets the sandbox as the SDK ships it, asked each time.
    per_workflow = dataclasses.replace(sealed, payload_codec=PerWorkflowCodec({"k": b"k" * 32}, "k"))
    assert not takes_no_context(per_workflow)
    assert isinstance(workflow_runner(per_workflow), SandboxedWorkflowRunner)
