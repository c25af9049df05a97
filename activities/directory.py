"""Who holds a role in a service now: a chain of re-audits runs for months while people move on."""

from temporalio import activity

from models.enums import Role
from models.payloads import ServiceContacts
from models.staff import StaffDirectory, StaffMember


class DirectoryActivities:
    def __init__(self, directory: StaffDirectory):
        self.directory = directory

    @activity.defn
    def service_contacts(self, practitioner_id: str) -> ServiceContacts:
        """Who holds each role for this practitioner now. Never fails on a gap: someone who has
        left is None, and the workflow keeps whom it named before (PIAT can replace them)."""
        d = self.directory
        practitioner = d.get(practitioner_id)
        team_manager = d.team_manager_of(practitioner_id)
        head = d.head_of_service_of(practitioner_id)
        return ServiceContacts(
            reauditor_id=_reauditor(d, practitioner, team_manager, head),
            team_manager_id=team_manager.id if team_manager else None,
            head_of_service_id=head.id if head else None,
            piat_manager_id=_first(d, Role.PIAT_MANAGER),
            psw_id=_first(d, Role.PSW),
            assistant_director_id=_first(d, Role.ASSISTANT_DIRECTOR),
            director_id=_first(d, Role.DIRECTOR),
            corporate_director_quality_standards_id=_first(d, Role.CORPORATE_DIRECTOR_QUALITY_STANDARDS),
            corporate_director_csc_id=_first(d, Role.CORPORATE_DIRECTOR_CSC),
        )


def _reauditor(d: StaffDirectory, practitioner: StaffMember | None, team_manager, head) -> str | None:
    """A senior manager of the practitioner's service, the Head of Service first (R-KIND-6)."""
    if practitioner is None:
        return head.id if head else None
    seniors = [
        m
        for m in d.with_role(Role.SENIOR_MANAGER)
        if m.service_area == practitioner.service_area and m.id != (team_manager and team_manager.id)
    ]
    seniors.sort(key=lambda m: m.id != (head and head.id))
    return seniors[0].id if seniors else (head.id if head else None)


def _first(directory: StaffDirectory, role: Role) -> str | None:
    holders = directory.with_role(role)
    return holders[0].id if holders else None
