"""A February moderation panel (R-MOD) through the API: January's audits made final through the
real audit flow, the panel drawn from them, a moderator's record."""

from sqlmodel import Session

from models.tables import AuditRecord
from tests.helpers.dates import YEAR, at, cycle, cycle_opens, deadline_after, first_working_day, working_days_after
from tests.helpers import audit_to_report, eventually, skip_to

FEBRUARY = cycle(2)  # the panel's month (a moderation month, R-MOD-2)
PANEL = f"moderation-{FEBRUARY}"
OPENS = cycle_opens(2)  # the panel is opened at 09:00 on February's first working day
DUE = deadline_after(OPENS, 20)  # 20 working days after it opened (R-MOD-3)
MET = working_days_after(OPENS.date(), 7)  # the moderators meet the auditors a week and a half in …
RECORDING = at(working_days_after(OPENS.date(), 9), 10)  # … and record two working days later
PANEL_DAY = first_working_day(YEAR, 2)  # the day the panel opens
PANEL_PAGE = f"/app/moderation-panels/{FEBRUARY}"  # the page its emails link to
# Four January audits: three of Safeguarding (one Requires Improvement, whose run goes on to a
# discussion and a re-audit, so its final grading is only in the live workflow) and one of MASH.
AUDITS = [
    dict(case_ref="C-1", practitioner_id="sw1", grade="good"),
    dict(case_ref="C-2", practitioner_id="sw2", grade="requires_improvement"),
    dict(case_ref="C-3", practitioner_id="sw3", grade="good", auditor="tm1"),
    dict(case_ref="C-4", practitioner_id="sw1", grade="good", service_area="mash"),
]


async def final_january_audits(api, env, engine, audits=AUDITS) -> list[str]:
    await skip_to(env, at(first_working_day(YEAR, 1)))
    ids = [await audit_to_report(api, env, **audit) for audit in audits]
    await skip_to(env, OPENS)  # dispute windows closed: on Mosaic, final (R-REP-2)
    assert await eventually(lambda: _all_final(engine, ids)), "the audits did not become final"
    return ids


async def _all_final(engine, ids):
    with Session(engine) as session:
        return all(session.get(AuditRecord, i).overall_grade for i in ids)


async def a_panel(api, env, engine) -> dict:
    """One final January audit (tm2's), and February's panel drawn from it: one moderation, slt1's."""
    await final_january_audits(api, env, engine, [dict(grade="good")])
    [moderation] = (await open_panel(api, {"per_service": 1, "seed": 1}))["moderations"]
    assert moderation["moderator_id"] == "slt1"
    return moderation


async def open_panel(api, body=None, status=201) -> dict:
    r = await api.as_("piat1").post(f"/moderation-panels/{FEBRUARY}", json=body)
    assert r.status_code == status, r.text
    return r.json()


def findings(moderation: dict, met_on=MET.isoformat(), disagree_first=False, overall=None) -> dict:
    domains = [{"domain": d["domain"], "agree": True} for d in moderation["domains"]]
    if disagree_first:
        first = moderation["domains"][0]
        domains[0] = {
            "domain": first["domain"],
            "agree": False,
            "moderated_grade": "requires_improvement" if first["grade"] != "requires_improvement" else "good",
        }
    body = {
        "domains": domains,
        "overall": {"agree": True},
        "feedback": "Sound analysis; the plan needs dates.",
        "met_auditor_on": met_on,
    }
    if overall:
        body["overall"] = {"agree": False, "moderated_grade": overall}
    return body


async def record(api, moderation, body, by=None, status=200) -> dict:
    r = await api.as_(by or moderation["moderator_id"]).post(f"/moderations/{moderation['moderation_id']}/record", json=body)
    assert r.status_code == status, r.text
    return r.json()
