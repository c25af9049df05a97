"""`/audit-tools`: the domains and key lines of enquiry per service area (R-AUD-3, R-AUD-6)."""

from fastapi import APIRouter

from api.permissions import permit
from api.deps import Actor
from models.audit_tools import AuditTool, tool_for
from models.enums import ServiceArea

router = APIRouter(prefix="/audit-tools", tags=["audit tools"])


@router.get("/{service_area}", response_model=AuditTool, dependencies=[permit("get_audit_tool")])
def get_audit_tool(service_area: ServiceArea, actor: Actor) -> AuditTool:
    return tool_for(service_area)
