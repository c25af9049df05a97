"""What the reports (R-REP) need of one audit, kept on its row in the `audit` table (`facts`).

The row's columns change at every step, but its whole view is saved only when the row first
appears and when the run ends, and an audit stays running for months after it is final (its
findings discussion, its re-audits). So the few facts a report counts are worked out from the
view at every save, in the workflow's own projection step (pure: no clock, no I/O)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from models.payloads import AuditView

# History entries the audit workflow records (workflows/audit*.py, workflows/process.py).
SUBMITTED = "submitted for quality assurance"
COMPLETION_MISSED = "completion deadline passed"
NOT_ACCEPTED = "not accepted"


class AuditFacts(BaseModel):
    """One audit as the reports count it. `final_domains` is set only once the grading is final
    (R-REP-2: on Mosaic, after QA and any dispute); a peer audit's domains are all None."""

    final: bool = False
    final_domains: dict[str, str | None] | None = None
    first_submitted_at: datetime | None = None
    submitted_late: bool = False  # the completion deadline (R-AUD-1) passed before the first submission
    qa_returns: int = 0  # R-QA-2
    not_accepted: int = 0  # R-QA-3: times carried into a later cycle
    discussion_due: datetime | None = None  # R-DISC-1, R-DISC-2; None: no discussion required
    discussion_recorded_at: datetime | None = None  # the Team Manager's first record (R-DISC-3)
    discussion_escalated: bool = False  # missed: the Head of Service was told (R-DISC-3)


def facts_of(view: AuditView) -> AuditFacts:
    actions = [h.action for h in view.history]
    submitted = [h.at for h in view.history if h.action == SUBMITTED]
    # A late submission is one the workflow already marked overdue: it holds the deadline rule
    # (17:00 on the due day, an action in the same moment counting as in time).
    late = COMPLETION_MISSED in actions[: actions.index(SUBMITTED)] if SUBMITTED in actions else False
    discussion = view.findings_discussion
    final = view.final_grading
    return AuditFacts(
        final=final is not None,
        final_domains={d.domain: d.grade.value if d.grade else None for d in final.domains} if final else None,
        first_submitted_at=submitted[0] if submitted else None,
        submitted_late=late,
        qa_returns=sum(q.decision == "return" for q in view.qa_decisions),
        not_accepted=actions.count(NOT_ACCEPTED),
        discussion_due=discussion.due if discussion else None,
        discussion_recorded_at=discussion.records[0].at if discussion and discussion.records else None,
        discussion_escalated=bool(discussion and discussion.escalated_to_head_of_service),
    )


def facts_of_saved_view(view: dict[str, Any]) -> AuditFacts | None:
    """For a row saved before rows kept their facts: from its saved whole view (current for a run
    that has ended; as first saved for one still running)."""
    try:
        return facts_of(AuditView.model_validate(view))
    except ValueError:  # an empty or older view: nothing to count
        return None
