"""Names from the Quality Standards Audit Framework (its rules: docs/process.md)."""

from enum import StrEnum


class Grade(StrEnum):
    """R-AUD-4, best first."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"


class ServiceArea(StrEnum):
    """R-KIND-5."""

    MASH = "mash"
    SAFEGUARDING = "safeguarding"
    CORPORATE_PARENTING = "corporate_parenting"
    CARE_EXPERIENCED = "care_experienced"
    FOSTERING_ADOPTION = "fostering_adoption"
    SEND = "send"


class AuditKind(StrEnum):
    """R-KIND-1..3."""

    STANDARD = "standard"
    PEER = "peer"
    THEMED = "themed"
    REAUDIT = "reaudit"  # R-RE: scheduled by the audit it follows, never allocated by hand


class Stage(StrEnum):
    """Where one audit is in its lifecycle; also the `AuditStage` search attribute."""

    ALLOCATED = "allocated"  # waiting for the auditor's initial grading (R-AUD-5)
    INITIALLY_GRADED = "initially_graded"  # waiting for the practitioner conversation
    FINALLY_GRADED = "finally_graded"  # conversation held; waiting for submission to QA
    AWAITING_QA = "awaiting_qa"  # R-QA-1
    REVISIONS_REQUESTED = "revisions_requested"  # R-QA-2
    ACCEPTED = "accepted"  # QA accepted; the report is on its way to practitioner and TM
    NOT_ACCEPTED = "not_accepted"  # R-QA-3: carried into the next cycle
    DISPUTE_WINDOW = "dispute_window"  # R-DIST-4: report sent, Mosaic upload waits
    IN_DISPUTE = "in_dispute"  # R-DISP: the upload waits for the dispute to end
    REAUDIT_PLANNED = "reaudit_planned"  # R-RE-1: final and below Good; waiting for the re-audit cycle
    REAUDIT_IN_PROGRESS = "reaudit_in_progress"  # the re-audit (a child workflow) is running
    COMPLETED = "completed"  # on Mosaic with its alerts (R-DIST-2, R-DIST-3), any re-audit chain ended


class Escalation(StrEnum):
    """How far up an audit has had to go; the `Escalation` search attribute."""

    NONE = "none"
    TEAM_MANAGER = "team_manager"  # reminded of a missed findings discussion
    HEAD_OF_SERVICE = "head_of_service"  # R-DISC-3 missed discussion; R-RE-3 a 2nd re-audit needed
    DIRECTOR = "director"  # R-RE-5: still below Good at the 2nd re-audit


class ChainOutcome(StrEnum):
    CLOSED = "closed"  # a re-audit reached Good or better
    ESCALATED = "escalated"  # R-RE-5


BELOW_GOOD = frozenset({Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE})


class DisputeLevel(StrEnum):
    """The four levels of the dispute ladder (R-DISP)."""

    INFORMAL = "informal"
    FORMAL = "formal"
    CORPORATE = "corporate"
    INDEPENDENT_REVIEW = "independent_review"


class DisputeStep(StrEnum):
    """Each recorded step, in ladder order; the `DisputeStep` search attribute."""

    MEETING = "meeting"  # R-DISP-2: within 5 working days of raising
    SUMMARY = "summary"  # R-DISP-3: within 2 working days of the meeting
    AMENDED_GRADING = "amended_grading"  # R-DISP-4: resolved informally
    FORMAL_DISCUSSION = "formal_discussion"  # R-DISP-6: within 5 working days
    WRITTEN_RESPONSE = "written_response"  # R-DISP-7: within 5 more
    CORPORATE_DECISION = "corporate_decision"  # R-DISP-8: within 5 working days
    INDEPENDENT_REVIEW = "independent_review"  # R-DISP-9: commissioned or not
    INDEPENDENT_REVIEW_RESULT = "independent_review_result"
    ENDED = "ended"


class SafetyEscalation(StrEnum):
    """How far an unacknowledged safety concern has gone (R-SAFE-2); `Escalation` attribute."""

    NONE = "none"
    HEAD_OF_SERVICE = "head_of_service"
    ASSISTANT_DIRECTOR = "assistant_director"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").title().replace("Of", "of")


class PersonRole(StrEnum):
    """Whom an audit names, each of whom PIAT can replace (`PUT /audits/{id}/people/{role}`)."""

    AUDITOR = "auditor"
    TEAM_MANAGER = "team_manager"
    HEAD_OF_SERVICE = "head_of_service"
    CP_CHAIR_OR_IRO = "cp_chair_or_iro"

    @property
    def label(self) -> str:
        return {
            "auditor": "auditor",
            "team_manager": "Team Manager",
            "head_of_service": "Head of Service",
            "cp_chair_or_iro": "CP Chair / IRO",
        }[self.value]


class Channel(StrEnum):
    EMAIL = "email"
    MOSAIC_CASE_NOTE = "mosaic_case_note"
    MOSAIC_ALERT = "mosaic_alert"


class Role(StrEnum):
    """Roles in the staff directory."""

    PIAT = "piat"  # Practice Improvement & Audit Team
    PIAT_MANAGER = "piat_manager"  # PI&A Manager
    PRACTITIONER = "practitioner"
    TEAM_MANAGER = "team_manager"
    HEAD_OF_SERVICE = "head_of_service"
    AUDITOR = "auditor"
    SENIOR_MANAGER = "senior_manager"
    CP_CHAIR = "cp_chair"
    IRO = "iro"
    PSW = "psw"  # Principal Social Worker / Head of Service for Practice Improvement
    ASSISTANT_DIRECTOR = "assistant_director"
    DIRECTOR = "director"
    CORPORATE_DIRECTOR_QUALITY_STANDARDS = "corporate_director_quality_standards"
    CORPORATE_DIRECTOR_CSC = "corporate_director_csc"
    SLT_MODERATOR = "slt_moderator"


# R-CAL-3: ten cycles a year, none in August or December.
CYCLE_MONTHS = (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)
