"""`GET /me/work`: everything waiting on me (services/my_work.py)."""

from fastapi import APIRouter

from api.deps import Actor, Now, SessionDep
from api.permissions import permit
from api.schemas.work import WorkItem
from services import my_work as work

router = APIRouter(tags=["my work"])


@router.get("/me/work", response_model=list[WorkItem], dependencies=[permit("my_work")])
def my_work(actor: Actor, session: SessionDep, now: Now) -> list[WorkItem]:
    """What waits on me by name, or on a role I hold; soonest deadline first, the undated last."""
    return work.my_work(session, actor, now)
