"""Staff actions as Workflow Updates: answered in bounded time, and safe to retry with the
request's `Idempotency-Key`."""

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy import Row, Select, Table, Text, bindparam, cast
from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from models.limits import blank_required
from models.staff import StaffMember
from services.context import Services
from services.errors import Refused


async def update(
    svc: Services,
    handle: WorkflowHandle,
    update_fn: Callable,
    args: Sequence[Any] = (),
    actor: StaffMember | None = None,
    key: str | None = None,
) -> Any:
    """Run one staff action on its workflow, answering with the update's result.

    With a key, the key becomes the Update ID: Temporal answers a repeated Update ID within a
    run with the first outcome and runs nothing again, so a retry sends no second email and
    writes no second history entry. A refused update is not recorded, so its key can be used
    again once the request is put right. Without a key each call is a new update.
    """
    refuse_blank(*args)
    update_id = request_id(update_fn.__name__, actor, key) if actor else None
    try:
        async with answer_within(svc) as timeout:
            return await handle.execute_update(update_fn, args=list(args), id=update_id, rpc_timeout=timeout)
    except RPCError as error:
        # Temporal says "not found" of a workflow that has ended, too: that is an action too late.
        if error.status is RPCStatusCode.NOT_FOUND and await describe(svc, handle.id) is not None:
            raise Refused(409, "it has ended: nothing more can be recorded on it") from None
        raise


def refuse_blank(*bodies: Any) -> None:
    """422, as for empty text, when text a step requires is only spaces: before a workflow is
    started or updated with it, so nothing blank is ever recorded."""
    if blank := [place for body in bodies for place in blank_required(body)]:
        raise RequestValidationError([{"loc": place, "msg": "must not be blank", "type": "blank"} for place in blank])


async def query(svc: Services, handle: WorkflowHandle, query_fn: Callable) -> Any:
    async with answer_within(svc) as timeout:
        return await handle.query(query_fn, rpc_timeout=timeout)


async def saved_or_live(
    svc: Services, handle: WorkflowHandle, query_fn: Callable, view: type[BaseModel], table, record_id: str, what: str
):
    """A process's view for a read: the whole view its row (of `table`, keyed `record_id`) saved
    last, when the row holds it (`view_current`). The workflow saves it at every change, before
    any action on it answers, and again as its run ends, so the row is the view a query would give
    without the worker a query needs: with no worker running a read answers at once, where a
    query waited out the API's whole timeout. A row holding only its first view (runs begun
    before lean steps, until they end) is asked of the workflow, or answered from that row once
    the history is gone. 404 when neither exists."""
    saved = await saved_row(svc, table, record_id)
    if saved is not None and saved.view_current:
        return view.model_validate_json(saved.view)
    try:
        return await query(svc, handle, query_fn)
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
    if saved is None or saved.view in (None, "{}"):
        raise Refused(404, f"no {what} {record_id}")
    return view.model_validate_json(saved.view)


async def answered(
    svc: Services, handle: WorkflowHandle, query_fn: Callable, view: type[BaseModel], table, record_id: str
) -> Any:
    """A process's view once one of its updates has answered: the row its projection saved
    before answering, when that row holds the whole current view (`view_current`); else asked
    of the workflow. An update that waits answers once the row holds its change
    (`Projection.answer`); one that answers at once does so with the workflow task that saves the
    row, which completes only after its local activities (unless they outlast most of the
    task's timeout: then the answer may be a step behind, as the lists would). A query costs
    the server a round trip and the worker a task: with it, one staff action took a fifth
    longer (`make bench`, figure 1)."""
    saved = await saved_row(svc, table, record_id)
    if saved is not None and saved.view_current:
        return view.model_validate_json(saved.view)
    return await query(svc, handle, query_fn)


async def saved_row(svc: Services, table, record_id: str) -> Row | None:
    """The row's `view_current` and `view`, read in the thread pool (never on the event loop)."""

    def read() -> Row | None:
        with svc.engine.connect() as connection:
            return connection.execute(saved_view(table.__table__), {"key": record_id}).first()

    return await run_in_threadpool(read)


@functools.cache
def saved_view(table: Table) -> Select:
    """A row's view as the JSON text it was saved as (pydantic reads it without building dicts),
    built once per table: an ORM session and a statement built afresh cost four times the read."""
    key = table.primary_key.columns.values()[0]
    return select(table.c.view_current, cast(table.c.view, Text).label("view")).where(key == bindparam("key"))


def request_id(action: str, actor: StaffMember, key: str | None) -> str | None:
    """The action and the person are part of the ID: one person's key can neither answer for
    another person's request nor turn one action into the answer of another."""
    return f"{action}:{actor.id}:{key}" if key else None


@asynccontextmanager
async def answer_within(svc: Services) -> AsyncIterator[timedelta]:
    """`rpc_timeout` bounds one RPC, but the SDK retries and re-polls an update: with no worker a
    1 s `rpc_timeout` returned after 1, 4 and 12 s. So the whole call is bounded too (TimeoutError,
    a 504 in api/errors.py); `rpc_timeout` still tells the server when to give up."""
    seconds = svc.settings.api_update_timeout_seconds
    async with asyncio.timeout(seconds):
        yield timedelta(seconds=seconds)


async def describe(svc: Services, workflow_id: str) -> WorkflowExecutionInfo | None:
    """A workflow's raw description, None once its history is gone. Raw, because the typed
    `describe()` decodes every search attribute and the test server keeps unset ones empty."""
    execution = WorkflowExecution(workflow_id=workflow_id)
    try:
        described = await svc.client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(namespace=svc.client.namespace, execution=execution)
        )
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        return None
    return described.workflow_execution_info


async def memo(svc: Services, info: WorkflowExecutionInfo, name: str) -> str | None:
    """A memo entry, decoded (and decrypted: memos pass through the payload codec too)."""
    payload = info.memo.fields.get(name)
    if payload is None:
        return None
    [value] = await svc.client.data_converter.decode([payload], [str])
    return value
