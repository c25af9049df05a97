"""One audit's state: what it was allocated with, whom it names now, where its report is, and what
followed the report. Plain data and what follows from it; the steps change it and the workflow
(workflows/audit.py) owns it."""

from dataclasses import dataclass, field
from datetime import date, datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.disputes import DisputePeople
    from models.enums import ChainOutcome, Escalation, Grade, PersonRole, Stage
    from models.payloads import (
        AuditInput,
        Deadlines,
        DiscussionView,
        DisputeOutcome,
        DisputeRaise,
        FollowUpRecord,
        Grading,
        PractitionerConversation,
        QADecision,
        QARecord,
        ReauditPlan,
        Regrade,
    )


@dataclass
class AuditState:
    audit: AuditInput
    allocated_at: datetime
    # Whom the audit names now: the directory at each step that needs them, or whom PIAT named
    # instead (`PUT /audits/{id}/people/{role}`), which then holds (`pinned`).
    auditor_id: str
    team_manager_id: str
    head_of_service_id: str | None
    cp_chair_or_iro_id: str | None
    piat_manager_id: str | None
    pinned: set[PersonRole] = field(default_factory=set)
    follow_up_by_assistant_director: str | None = None  # R-RE-3, when the Head of Service re-audited
    people_changes: int = 0
    finished: bool = False  # the run is returning: nothing more can change
    # The report (R-ALLOC, R-AUD, R-QA)
    stage: Stage = Stage.ALLOCATED
    deadlines: Deadlines = field(default_factory=Deadlines)
    period_start: date | None = None
    period_end: date | None = None
    carried_into_cycle: str | None = None
    initial: Grading | None = None
    conversation: PractitionerConversation | None = None
    qa_decisions: list[QARecord] = field(default_factory=list)
    submitted_at: datetime | None = None  # set by submit, cleared when QA decides
    pending_qa: QADecision | None = None
    qa_rounds: int = 0  # the rounds of QA so far, over every pass
    amended: bool = False  # an amendment since QA returned the report
    reassignments: int = 0
    allocated: bool = False  # the allocation is sent and its deadlines set
    # Updates that move the process wait until the run has caught up with them, so their answer
    # carries the new deadline: each counts itself in `requested`; a wait of the report's path
    # settles every request made so far.
    requested: int = 0
    settled: int = 0
    # After the report (R-DISC, R-RE)
    report_sent_at: datetime | None = None
    discussion: DiscussionView | None = None
    discussion_round: int = 0  # each start of the discussion (again after a dispute) has its own emails
    discussion_starting: bool = False  # until its due date is known and the first email sent
    discussion_notes_sent: int = 0  # the recorded discussions whose note went to Mosaic and PIAT
    follow_up_required: bool = False
    follow_up: FollowUpRecord | None = None
    reaudit: ReauditPlan | None = None
    chain_outcome: ChainOutcome | None = None
    escalation: Escalation = Escalation.NONE
    # Disputes (R-DISP)
    dispute: DisputeRaise | None = None
    dispute_raised_by: str | None = None
    dispute_id: str | None = None
    dispute_outcome: DisputeOutcome | None = None
    regrade: Regrade | None = None
    uploaded: bool = False  # on Mosaic: the grading is final and may be reported (R-REP-2)
    final_at: datetime | None = None  # when it went on Mosaic: the moderation draw and the reports count from it

    @classmethod
    def allocated_with(cls, audit: AuditInput, at: datetime) -> "AuditState":
        return cls(
            audit=audit,
            allocated_at=at,
            auditor_id=audit.auditor_id,
            team_manager_id=audit.team_manager_id,
            head_of_service_id=audit.head_of_service_id,
            cp_chair_or_iro_id=audit.cp_chair_or_iro_id,
            piat_manager_id=audit.piat_manager_id,
        )

    # ---- what follows from it ---------------------------------------------------------------------

    @property
    def final_grading(self) -> Regrade | None:
        """The grading after QA and any dispute: what Mosaic, reports and re-audits use (R-REP-2)."""
        if self.regrade:
            return self.regrade
        c = self.conversation
        return Regrade(domains=c.domains, overall=c.overall) if c else None

    @property
    def final_grade(self) -> Grade | None:
        grading = self.final_grading
        return grading.overall.grade if grading else None

    @property
    def reported_grade(self) -> Grade | None:
        """R-REP-2: the final overall grade, reported only once on Mosaic: the `AuditOverallGrade`
        search attribute, the list."""
        return self.final_grade if self.uploaded else None

    @property
    def follow_up_owner_id(self) -> str | None:
        return self.follow_up_by_assistant_director or self.head_of_service_id

    @property
    def piat_manager(self) -> str:
        """Who hears of PIAT's own misses and reviews (the PI&A Manager; else PIAT: `AuditInput.piat`)."""
        return self.piat_manager_id or self.audit.piat

    def person(self, role: PersonRole) -> str | None:
        return getattr(self, f"{role.value}_id")  # type: ignore[no-any-return]

    def set_person(self, role: PersonRole, staff_id: str) -> None:
        setattr(self, f"{role.value}_id", staff_id)

    def dispute_people(self) -> DisputePeople:
        return DisputePeople(
            auditor_id=self.auditor_id,
            team_manager_id=self.team_manager_id,
            head_of_service_id=self.head_of_service_id,
            pinned=sorted(self.pinned),
        )
