"""`make demo` (with `make dev` running): one audit from allocation to the dispute window, via the API.

Each step acts as the member of staff who would take it, with a dev token (`Bearer dev-<staff id>`).
API_URL points it at another API (default http://localhost:8000).
"""

import os
import random
import sys
from datetime import date, datetime, timedelta, UTC
from zoneinfo import ZoneInfo

import httpx

API_URL = os.environ.get("API_URL", "http://localhost:8000")
LONDON = ZoneInfo("Europe/London")
CYCLE_MONTHS = (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)  # R-CAL-3: no cycle in August or December

client = httpx.Client(base_url=API_URL, timeout=30)


def call(method: str, path: str, as_: str, body: dict | None = None) -> dict | list:
    """One request as a member of staff; any failure ends the demo with the API's answer."""
    try:
        r = client.request(method, path, json=body, headers={"Authorization": f"Bearer dev-{as_}"})
    except httpx.TransportError as error:
        sys.exit(f"cannot reach the API at {API_URL} ({error}). Is `make dev` running?")
    if r.is_error:
        print(f"\nFAILED: {method} {path} as {as_} -> HTTP {r.status_code}\n{r.text}", file=sys.stderr)
        sys.exit(1)
    return r.json()


def when(iso: str | None) -> str:
    if iso is None:
        return "(not set)"
    return datetime.fromisoformat(iso).astimezone(LONDON).strftime("%A %d %B %Y, %H:%M (London)")


def step(text: str) -> None:
    print(f"\n- {text}")


def this_or_next_cycle(today: date) -> str:
    year, month = today.year, today.month
    while month not in CYCLE_MONTHS:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def main() -> None:
    # The workflow checks dates against its own clock, which is UTC.
    today = datetime.now(UTC).date()
    case_ref = f"C-DEMO-{random.randint(1000, 9999)}"
    print(f"One audit through the Quality Standards Audit Framework, against {API_URL}")

    step(f"piat1 (PIAT) allocates case {case_ref}: auditor tm2, practitioner sw1, IRO iro1")
    audit = call(
        "POST",
        "/audits",
        "piat1",
        {
            "case_ref": case_ref,
            "service_area": "safeguarding",
            "kind": "standard",
            "cycle": this_or_next_cycle(today),
            "auditor_id": "tm2",
            "practitioner_id": "sw1",
            "involvement_start": (today - timedelta(days=120)).isoformat(),
            "cp_chair_or_iro_id": "iro1",
        },
    )
    audit_id = audit["audit_id"]
    print(f"  audit {audit_id}, cycle {audit['cycle']}, stage {audit['stage']}")
    print(f"  period audited: {audit['audit_period_start']} to {audit['audit_period_end']}")
    print(f"  to be completed by {when(audit['deadlines']['completion_due'])}")

    tool = call("GET", "/audit-tools/safeguarding", "tm2")
    domains = [
        {"domain": d["name"], "grade": "requires_improvement", "rationale": f"What the record shows for {d['name']}."}
        for d in tool["domains"]
    ]
    overall = {"grade": "requires_improvement", "rationale": "Planning is sound but the child's voice is thin."}

    step(f"tm2 (auditor) grades all {len(domains)} domains of the '{tool['name']}' tool and sets an improvement plan")
    audit = call(
        "PUT",
        f"/audits/{audit_id}/grading",
        "tm2",
        {
            "domains": domains,
            "overall": overall,
            "improvement_plan": [
                {
                    "action": "Record the child's views at each visit",
                    "owner_id": "sw1",
                    "due_on": (today + timedelta(days=30)).isoformat(),
                },
            ],
        },
    )
    print(f"  stage {audit['stage']}")

    conversation = {
        "held_on": today.isoformat(),
        "notes": "Talked through strengths and gaps with sw1.",
        "domains": domains,
        "overall": overall,
    }
    step("tm2 records the reflective conversation with the practitioner and the final grading")
    audit = call("POST", f"/audits/{audit_id}/practitioner-conversation", "tm2", conversation)
    print(f"  stage {audit['stage']}")

    step("tm2 submits the report for quality assurance")
    audit = call("POST", f"/audits/{audit_id}/submit", "tm2")
    print(f"  stage {audit['stage']}; PIAT to quality-assure it by {when(audit['deadlines']['qa_due'])}")

    step("piat1 returns it for revision")
    audit = call(
        "POST",
        f"/audits/{audit_id}/qa",
        "piat1",
        {
            "decision": "return",
            "details": "Say how the child's voice shaped the plan.",
            "discussion_offered": False,
        },
    )
    print(f"  stage {audit['stage']}; amended report due by {when(audit['deadlines']['revision_due'])}")

    step("tm2 amends the conversation notes and submits again")
    conversation["notes"] += " Added: the child's wishes and how the plan reflects them."
    call("POST", f"/audits/{audit_id}/practitioner-conversation", "tm2", conversation)
    audit = call("POST", f"/audits/{audit_id}/submit", "tm2")
    print(f"  stage {audit['stage']}; QA due by {when(audit['deadlines']['qa_due'])}")

    step("piat1 accepts it")
    call("POST", f"/audits/{audit_id}/qa", "piat1", {"decision": "accept"})

    audit = call("GET", f"/audits/{audit_id}", "piat1")
    grade = audit["conversation"]["overall"]["grade"]
    step(f"Now: stage {audit['stage']}, graded {grade} (final, and reported, once on Mosaic)")
    print(f"  the report went to {audit['practitioner_id']} and their Team Manager {audit['team_manager_id']}")
    print(f"  the dispute window closes {when(audit['deadlines']['dispute_window_closes'])}")
    print("  then the workflow posts the Mosaic case note and alerts by itself")

    step("Notifications so far")
    for n in call("GET", f"/audits/{audit_id}/notifications", "piat1"):
        print(f"  {n['channel']:<17} to {', '.join(n['recipient_ids']):<16} {n['subject']}")

    print("\nThe emails are in .data/mailbox/new/ (with `make dev`). Follow the workflow in the Temporal Web UI:")
    print(f"  http://localhost:8233/namespaces/default/workflows/audit-{audit_id}")


if __name__ == "__main__":
    main()
