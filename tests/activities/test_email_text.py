"""How an email to staff is worded (activities/email_text.py): the workflow sends IDs, UTC instants
and what is needed; the reader gets their name, London time, the case, the cycle and a link. Pure:
no clock. Its instants are in a year picked at run time (the suite's `YEAR`), a Friday in winter
and one in summer time, so the expected words are worked by hand but for the day and the year;
the end-to-end case is in tests/activities/test_email_end_to_end.py."""

from datetime import UTC, date, datetime, time

from activities.email_text import EmailText
from models.email_marks import RULE_CODE, at, people, person, without_rule_codes
from models.enums import Channel
from models.payloads import Notification
from models.staff import StaffDirectory, StaffMember
from tests.helpers.dates import YEAR, weekday_on_or_after

WINTER_FRIDAY = weekday_on_or_after(date(YEAR, 12, 1), 4)  # GMT: London is UTC in December
SUMMER_FRIDAY = weekday_on_or_after(date(YEAR + 1, 6, 15), 4)  # BST: London is UTC+1


def directory() -> StaffDirectory:
    def member(staff_id: str, name: str) -> StaffMember:
        return StaffMember(
            id=staff_id, name=name, email=f"{staff_id}@example.test", roles=[], team="t", service_area="safeguarding"
        )

    return StaffDirectory([member("sw1", "Sam Worker"), member("tm1", "Taylor Manager"), member("aud1", "Ali Auditor")])


TEXT = EmailText(directory(), "https://audits.council.example/", "Europe/London")


def email(**fields) -> Notification:
    base = dict(
        key="audit-a1/report",
        audit_id="a1",
        case_ref="C-42",
        channel=Channel.EMAIL,
        recipient_ids=["sw1"],
        subject="Audit report: case C-42",
        body=f"Auditor: {person('aud1')}.",
        at=datetime(YEAR, 12, 1, tzinfo=UTC),
        cycle=f"{YEAR + 1}-03",
        link_path="/app/audits/a1",
        action="",
    )
    return Notification(**(base | fields))


def test_one_reader_is_greeted_by_name_with_the_case_the_cycle_and_the_link():
    subject, body = TEXT.render(email())
    assert body.startswith(f"Dear Sam Worker,\n\nThis email is about case C-42 in the March {YEAR + 1} audit cycle.")
    assert "Auditor: Ali Auditor." in body and "aud1" not in body
    assert "Open the audit: https://audits.council.example/app/audits/a1" in body
    assert "Nothing is needed from you: this is for your information." in body
    assert subject == "Audit report: case C-42"


def test_several_readers_are_all_greeted_and_told_who_must_act_and_by_when():
    due = datetime.combine(WINTER_FRIDAY, time(17), tzinfo=UTC)
    _, body = TEXT.render(email(recipient_ids=["sw1", "tm1", "aud1"], action="amend the report", action_for=["aud1"], due=due))
    assert body.startswith("Dear Sam Worker, Taylor Manager and Ali Auditor,")
    assert f"What is needed from Ali Auditor: amend the report.\nBy: Friday {WINTER_FRIDAY.day} December {YEAR}, 17:00\n" in body
    assert "Sam Worker and Taylor Manager: this is for your information." in body


def test_a_summer_deadline_is_in_british_summer_time():
    due = datetime.combine(SUMMER_FRIDAY, time(16), tzinfo=UTC)  # 17:00 in London
    _, body = TEXT.render(email(action="record the findings discussion", due=due, body=f"It was due by {at(due)}."))
    assert f"It was due by Friday {SUMMER_FRIDAY.day} June {YEAR + 1}, 17:00." in body
    assert (
        f"What is needed from you: record the findings discussion.\nBy: Friday {SUMMER_FRIDAY.day} June {YEAR + 1}, 17:00" in body
    )


def test_someone_no_longer_in_the_directory_is_named_by_id_and_said_to_have_left():
    _, body = TEXT.render(email(recipient_ids=["sw1", "gone1"], body=f"From {people(['gone1', 'tm1'])}."))
    assert body.startswith("Dear Sam Worker,")  # the one who left is not greeted (nor sent it)
    assert "From gone1 (no longer in the staff directory) and Taylor Manager." in body


def test_a_send_queued_before_emails_were_worded_keeps_its_own_text():
    """A notification from before the new fields (an activity retried across the upgrade) decodes
    with none of them: greeted, its own text, no 'what is needed' or link it did not ask for."""
    old = Notification.model_validate(
        {
            "key": "k",
            "audit_id": "a1",
            "channel": "email",
            "recipient_ids": ["tm1"],
            "subject": "s",
            "body": "Please amend it by Friday at 17:00.",
            "at": f"{YEAR}-12-01T09:00:00Z",
            "case_ref": "C-42",
        }
    )
    _, body = TEXT.render(old)
    assert body.startswith("Dear Taylor Manager,\n\nThis email is about case C-42.\n\nPlease amend it")
    assert "What is needed" not in body and "Open the" not in body


def test_text_people_wrote_is_never_taken_for_a_mark():
    _, body = TEXT.render(email(body="Rationale: see [person:tm1] and ⟦time:yesterday⟧ and ⟦person:⟧."))
    assert "Rationale: see [person:tm1] and ⟦time:yesterday⟧ and ⟦person:⟧." in body


def test_rule_codes_are_taken_out_of_sentences_written_for_the_history():
    assert without_rule_codes("Head of Service follow-up (R-RE-3)") == "Head of Service follow-up"
    assert RULE_CODE.findall("R-DISP-5..7 and R-QA-2; not R2-D2") == ["R-DISP-5..7", "R-QA-2"]
