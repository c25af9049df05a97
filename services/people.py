"""Who may hold which part on an audit, by the staff directory: the checks an allocation, a
reassignment and a handed-over role share (R-KIND-1, R-KIND-2, R-KIND-6); and who sees every
audit (the lists' scope; api/permissions.py's table says the rest)."""

from models.enums import AuditKind, PersonRole, Role
from models.payloads import AuditView
from models.staff import StaffDirectory, StaffMember
from services.errors import unprocessable

SENIOR_LEADERS = (Role.PIAT, Role.PIAT_MANAGER, Role.PSW, Role.ASSISTANT_DIRECTOR, Role.DIRECTOR)
AUDITING_ROLES = (Role.AUDITOR, Role.TEAM_MANAGER, Role.PIAT, Role.IRO, Role.CP_CHAIR, Role.SENIOR_MANAGER)

ROLE_HELD = {  # what the directory must say of whoever takes each role on
    PersonRole.TEAM_MANAGER: (Role.TEAM_MANAGER,),
    PersonRole.HEAD_OF_SERVICE: (Role.HEAD_OF_SERVICE,),
    PersonRole.CP_CHAIR_OR_IRO: (Role.IRO, Role.CP_CHAIR),
}


def sees_every_audit(actor: StaffMember) -> bool:
    return any(actor.has(r) for r in SENIOR_LEADERS)


def staff_named(directory: StaffDirectory, staff_id: str, field: str) -> StaffMember:
    member = directory.get(staff_id)
    if member is None:
        raise unprocessable(f"{field}: no member of staff {staff_id!r} in the directory")
    return member


def check_auditor(view: AuditView, new: StaffMember) -> None:
    """Who may take an audit over: as at allocation, by its kind (R-KIND-1, R-KIND-2)."""
    if view.kind is AuditKind.PEER:
        if not new.has(Role.PRACTITIONER):
            raise unprocessable(f"peer audits are done by practitioners (R-KIND-2); {new.id} is not one")
    elif not any(new.has(r) for r in AUDITING_ROLES):
        raise unprocessable(f"{new.id} is not an auditor")
    if new.id == view.practitioner_id:
        raise unprocessable("the auditor must not be the practitioner whose work is audited")
    if view.kind is AuditKind.REAUDIT and not new.has(Role.SENIOR_MANAGER):
        raise unprocessable(f"re-audits are done by senior managers of the service (R-KIND-6); {new.id} is not one")
    if new.id == view.team_manager_id:
        raise unprocessable("the auditor must not be the practitioner's own Team Manager")


def check_role_holder(view: AuditView, role: PersonRole, new: StaffMember) -> None:
    """Whoever takes a role over on an audit holds it in the directory (the auditor: as above)."""
    if role is PersonRole.AUDITOR:
        check_auditor(view, new)
    elif not any(new.has(r) for r in ROLE_HELD[role]):
        raise unprocessable(f"{new.id} is not a {' or '.join(r.value for r in ROLE_HELD[role])} in the staff directory")
