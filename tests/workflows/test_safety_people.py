"""A safety concern goes to the practitioner's Team Manager now (R-SAFE-1), by the staff directory
when it is raised, not to whom the audit named weeks before -- unless PIAT named someone on the
audit. With no Team Manager to tell, the Head of Service is told at once."""

from datetime import timedelta

from tests.helpers.dates import YEAR, at, first_working_day
from tests.helpers import allocate, join, leave, skip_to
from tests.helpers.safety import CONCERN, raise_concern, urgent_emails

START = at(first_working_day(YEAR, 1))
ACK = {"action_taken": "Strategy discussion held"}


def move_sw1_to(settings, team_manager: str) -> None:
    """sw1 moves into `team_manager`'s team."""
    leave(settings, "sw1")
    with open(settings.staff_directory, "a") as f:
        f.write(
            '\n[[staff]]\nid = "sw1"\nname = "Sam Worker"\nemail = "sw1@council.example"\nroles = ["practitioner"]\n'
            f'team = "Safeguarding Team 9"\nservice_area = "safeguarding"\nmanager_id = "{team_manager}"\n'
        )


async def test_a_practitioner_who_moved_team_has_their_new_team_manager_told(api, env, sent, settings):
    await skip_to(env, START)
    audit_id = (await allocate(api))["audit_id"]
    join(settings, "tm9", ["team_manager"], manager_id="hos1")
    move_sw1_to(settings, "tm9")
    concern = await raise_concern(api, audit_id)
    assert concern["told"] == ["tm9"] and concern["team_manager_id"] == "tm9"
    assert urgent_emails(sent, audit_id) == [(["tm9"], "raised")]
    r = await api.as_("tm1").post(f"/safety-concerns/{audit_id}-1/acknowledge", json=ACK)
    assert r.status_code == 403
    r = await api.as_("tm9").post(f"/safety-concerns/{audit_id}-1/acknowledge", json=ACK)
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_by"] == "tm9"


async def test_with_no_team_manager_left_the_head_of_service_is_told_at_once(api, env, sent, settings):
    await skip_to(env, START)
    audit_id = (await allocate(api))["audit_id"]
    leave(settings, "tm1")
    concern = await raise_concern(api, audit_id)
    assert (concern["told"], concern["escalation"], concern["team_manager_id"]) == (["hos1"], "head_of_service", None)
    assert urgent_emails(sent, audit_id) == [(["hos1"], "escalated-head_of_service")]
    [email] = [n for n in sent(audit_id) if n.subject.startswith("URGENT")]
    assert email.delivery == "sent" and "the Assistant Director is told" in email.body
    assert "no Team Manager in the staff directory" in email.body

    await env.sleep(timedelta(hours=1, minutes=58))
    assert len(urgent_emails(sent, audit_id)) == 1
    await env.sleep(timedelta(minutes=4))  # the usual escalation: 2 hours after the Head of Service
    assert urgent_emails(sent, audit_id)[1:] == [(["ad1"], "escalated-assistant_director")]
    r = await api.as_("hos1").post(f"/safety-concerns/{audit_id}-1/acknowledge", json=ACK)
    assert r.status_code == 200, r.text
    listed = (await api.as_("piat1").get("/safety-concerns", params={"audit_id": audit_id})).json()
    assert [c["team_manager_id"] for c in listed] == [None]


async def test_a_team_manager_piat_named_on_the_audit_is_told(api, env, sent, settings):
    await skip_to(env, START)
    audit_id = (await allocate(api))["audit_id"]
    join(settings, "tm9", ["team_manager"], manager_id="hos1")
    r = await api.as_("piat1").put(f"/audits/{audit_id}/people/team_manager", json={"staff_id": "tm9", "reason": "covering"})
    assert r.status_code == 200, r.text
    concern = await raise_concern(api, audit_id, body=CONCERN)
    assert concern["told"] == ["tm9"]
    assert urgent_emails(sent, audit_id) == [(["tm9"], "raised")]
