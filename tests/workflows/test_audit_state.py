"""An audit's state and what it shows, without a workflow: the final grading (R-REP-2), whom it
names, and what each stage waits for from whom (models/rules.py's `STAGE_WAITS`)."""

from datetime import UTC, date, datetime

from models.enums import AuditKind, Grade, PersonRole, ServiceArea, Stage
from models.payloads import (
    AuditInput,
    DiscussionView,
    OverallGrade,
    PractitionerConversation,
    ReauditPlan,
    Regrade,
)
from tests.helpers.dates import YEAR
from workflows import audit_view
from workflows.audit_state import AuditState

NOW = datetime(YEAR, 1, 4, 9, tzinfo=UTC)
DUE = datetime(YEAR, 1, 29, 17, tzinfo=UTC)


def _state(**fields: object) -> AuditState:
    audit = AuditInput.model_construct(
        audit_id=f"{YEAR}-01-std-a",
        case_ref="C-1",
        service_area=ServiceArea.SAFEGUARDING,
        kind=AuditKind.STANDARD,
        cycle=f"{YEAR}-01",
        auditor_id="tm2",
        practitioner_id="sw1",
        team_manager_id="tm1",
        head_of_service_id="hos1",
        allocated_by="piat1",
        piat_id=None,
        piat_manager_id=None,
        domains=["voice"],
        reaudit_round=0,
        chain_id=None,
    )
    state = AuditState.allocated_with(audit, NOW)
    for name, value in fields.items():
        setattr(state, name, value)
    return state


def _graded(grade: Grade) -> OverallGrade:
    return OverallGrade(grade=grade, rationale="why")


def test_the_final_grading_is_the_conversation_s_until_a_dispute_regrades_it():
    conversation = PractitionerConversation(
        held_on=date(YEAR, 1, 10), notes="met", domains=[], overall=_graded(Grade.REQUIRES_IMPROVEMENT)
    )
    state = _state(conversation=conversation)
    assert state.final_grade is Grade.REQUIRES_IMPROVEMENT
    state.regrade = Regrade(domains=[], overall=_graded(Grade.GOOD))
    assert state.final_grade is Grade.GOOD


def test_the_grade_is_reported_only_once_on_mosaic():
    state = _state(regrade=Regrade(domains=[], overall=_graded(Grade.GOOD)))
    assert state.reported_grade is None
    state.uploaded = True
    assert state.reported_grade is Grade.GOOD


def test_the_people_it_names_and_who_stands_in():
    state = _state()
    assert state.piat_manager == "piat1"  # no PI&A Manager named: PIAT
    assert state.follow_up_owner_id == "hos1"
    state.follow_up_by_assistant_director = "ad1"  # R-RE-3: the Head of Service re-audited
    assert state.follow_up_owner_id == "ad1"
    state.set_person(PersonRole.TEAM_MANAGER, "tm3")
    assert state.person(PersonRole.TEAM_MANAGER) == "tm3" == state.team_manager_id


def test_each_stage_waits_on_its_people_or_its_role_until_its_deadline():
    state = _state()
    state.deadlines.completion_due = state.deadlines.qa_due = DUE
    first = audit_view.first_wait(state)
    assert first and (first.from_staff_ids, first.from_role, first.until) == (["tm2"], None, DUE)
    state.stage = Stage.AWAITING_QA
    first = audit_view.first_wait(state)
    assert first and (first.from_staff_ids, first.from_role, first.until) == ([], "piat", DUE)
    state.stage = Stage.NOT_ACCEPTED
    first = audit_view.first_wait(state)
    assert first and first.action == "completed audit for the next cycle"
    state.stage, state.reaudit = (
        Stage.REAUDIT_PLANNED,
        ReauditPlan(round=1, cycle=f"{YEAR}-03", allocate_at=DUE, audit_id=f"{YEAR}-01-std-a-r1", status="planned"),
    )
    first = audit_view.first_wait(state)
    assert first and (first.action, first.from_role, first.until) == (
        f"the {YEAR}-03 cycle, when re-audit 1 is allocated",
        "system",
        DUE,
    )
    state.stage = Stage.COMPLETED
    assert audit_view.first_wait(state) is None


def test_a_team_manager_s_discussion_waits_beside_the_dispute_window_and_the_soonest_is_asked():
    later = datetime(YEAR, 2, 5, 17, tzinfo=UTC)
    state = _state(
        stage=Stage.DISPUTE_WINDOW,
        discussion=DiscussionView(
            working_days=10,
            smart_actions_required=False,
            due=later,
            status="awaited",
            escalated_to_head_of_service=False,
            records=[],
            reviews=[],
        ),
    )
    state.deadlines.dispute_window_closes = DUE
    assert [w.from_staff_ids for w in audit_view.waits(state)] == [["sw1", "tm1"], ["tm1"]]
    ask = audit_view.waiting_ask(state, "tm1")
    assert (ask["action_for"], ask["due"]) == (["tm1"], DUE)
    assert "dispute window" in ask["action"] and "findings discussion" in ask["action"]
