"""Staff actions as Workflow Updates, safe to retry with the request's `Idempotency-Key`."""

from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import WorkflowHandle

from models.staff import StaffMember


async def update(handle: WorkflowHandle, update_fn: Callable, args: Sequence[Any], actor: StaffMember, key: str | None) -> Any:
    """Run one staff action on its workflow, answering with the update's result.

    With a key, the key becomes the Update ID: Temporal answers a repeated Update ID within a
    run with the first outcome and runs nothing again, so a retry sends no second email and
    writes no second history entry. A refused update is not recorded, so its key can be used
    again once the request is put right. Without a key each call is a new update.
    """
    return await handle.execute_update(update_fn, args=args, id=request_id(update_fn.__name__, actor, key))


def request_id(action: str, actor: StaffMember, key: str | None) -> str | None:
    """The action and the person are part of the ID: one person's key can neither answer for
    another person's request nor turn one action into the answer of another."""
    return f"{action}:{actor.id}:{key}" if key else None
