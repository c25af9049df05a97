"""Who holds a role in a service now: a chain of re-audits runs for months while people move on."""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.enums import Role
from models.payloads import ServiceContacts
from models.staff import StaffDirectory


class DirectoryActivities:
    def __init__(self, directory: StaffDirectory):
        self.directory = directory

    @activity.defn
    def service_contacts(self, practitioner_id: str) -> ServiceContacts:
        d = self.directory
        practitioner = d.get(practitioner_id)
        if practitioner is None:
            # Retryable on purpose: an operator can fix the directory and restart the worker.
            raise ApplicationError(f"practitioner {practitioner_id} is not in the staff directory")
        team_manager = d.team_manager_of(practitioner_id)
        head = d.head_of_service_of(practitioner_id)
        seniors = [m for m in d.with_role(Role.SENIOR_MANAGER)
                   if m.service_area == practitioner.service_area and m.id != (team_manager and team_manager.id)]
        seniors.sort(key=lambda m: m.id != (head and head.id))  # the Head of Service first, when senior
        reauditor = seniors[0] if seniors else head
        if reauditor is None:
            raise ApplicationError(f"no senior manager of the {practitioner.service_area} service in the directory")
        return ServiceContacts(
            reauditor_id=reauditor.id,
            head_of_service_id=head.id if head else None,
            psw_id=_first(d, Role.PSW),
            assistant_director_id=_first(d, Role.ASSISTANT_DIRECTOR),
            director_id=_first(d, Role.DIRECTOR),
            corporate_director_quality_standards_id=_first(d, Role.CORPORATE_DIRECTOR_QUALITY_STANDARDS),
            corporate_director_csc_id=_first(d, Role.CORPORATE_DIRECTOR_CSC),
        )


def _first(directory: StaffDirectory, role: Role) -> str | None:
    holders = directory.with_role(role)
    return holders[0].id if holders else None
