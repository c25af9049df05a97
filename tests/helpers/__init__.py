"""Building blocks for driving audits through the API in tests. The other processes' own (a
dispute, a safety concern, a moderation panel, ...) are in the modules beside this one; every
test module takes what it shares with others from here, never from another test module."""

import asyncio
import inspect
import json
import socket
from datetime import date, datetime, timedelta

from models.audit_tools import tool_for
from models.enums import ServiceArea
from tests.helpers.dates import INVOLVED_SINCE, LONDON, YEAR, cycle, day, london  # noqa: F401 (london: the tests' shorthand)


def allocation(**overrides) -> dict:
    body = {
        "case_ref": "C-100001",
        "service_area": "safeguarding",
        "kind": "standard",
        "cycle": cycle(1),
        "auditor_id": "tm2",
        "practitioner_id": "sw1",
        "involvement_start": INVOLVED_SINCE.isoformat(),
        "cp_chair_or_iro_id": "iro1",
    }
    return body | overrides


def grades(service_area: str = "safeguarding", grade: str | None = "good", overall: str | None = None) -> dict:
    domains = [
        {"domain": d.name, "grade": grade, "rationale": f"evidence for {d.name}"}
        for d in tool_for(ServiceArea(service_area)).domains
    ]
    return {"domains": domains, "overall": {"grade": overall if overall is not None else grade, "rationale": "overall rationale"}}


def grading(service_area="safeguarding", grade="good", overall=None, plan=True) -> dict:
    body = grades(service_area, grade, overall)
    body["improvement_plan"] = (
        [{"action": "Update the chronology", "owner_id": "sw1", "due_on": day(3, 1).isoformat()}] if plan else []
    )
    return body


def conversation(held_on: date, service_area="safeguarding", grade="good", overall=None) -> dict:
    return {"held_on": held_on.isoformat(), "notes": "reflective discussion of strengths and gaps"} | grades(
        service_area, grade, overall
    )


async def skip_to(env, local: datetime) -> None:
    """Advance the time-skipping server to a London wall-clock instant."""
    now = await env.get_current_time()
    target = local.replace(tzinfo=LONDON) if local.tzinfo is None else local
    assert target > now, f"cannot go back in time to {target} from {now}"
    await env.sleep(target - now)


async def today(env) -> date:
    return (await env.get_current_time()).astimezone(LONDON).date()


def at_london(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(LONDON)


def days(n: float) -> timedelta:
    return timedelta(days=n)


async def eventually(check, attempts: int = 100):
    """What the worker does just after an answer (a projection saved, an email queued): poll the
    check (a function, or a coroutine function) briefly until it gives something."""

    async def result():
        value = check()
        return await value if inspect.isawaitable(value) else value

    for _ in range(attempts):
        if found := await result():
            return found
        await asyncio.sleep(0.1)
    return await result()


async def mail_to(smtp, address: str, count: int = 1) -> list:
    """The relay delivers just after each send: wait briefly for `count` messages to `address`."""

    async def arrived():
        messages = smtp.to(address)
        return messages if len(messages) >= count else None

    return await eventually(arrived) or []


# ---- one audit through the API -------------------------------------------------------------


async def allocate(api, **overrides) -> dict:
    r = await api.as_("piat1").post("/audits", json=allocation(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


async def complete(api, env, audit_id, area="safeguarding", grade="good", overall=None, auditor="tm2"):
    r = await api.as_(auditor).put(f"/audits/{audit_id}/grading", json=grading(area, grade, overall))
    assert r.status_code == 200, r.text
    r = await api.as_(auditor).post(
        f"/audits/{audit_id}/practitioner-conversation", json=conversation(await today(env), area, grade, overall)
    )
    assert r.status_code == 200, r.text


async def submit(api, audit_id, auditor="tm2") -> dict:
    r = await api.as_(auditor).post(f"/audits/{audit_id}/submit")
    assert r.status_code == 200, r.text
    return r.json()


async def qa(api, audit_id, decision="accept", details="", discussion_offered=False) -> dict:
    body = {"decision": decision, "details": details, "discussion_offered": discussion_offered}
    r = await api.as_("piat1").post(f"/audits/{audit_id}/qa", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def view(api, audit_id) -> dict:
    r = await api.as_("piat1").get(f"/audits/{audit_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def auditor_of(api, audit_id: str) -> str:
    """Who audits it now (a reassignment changes it)."""
    return (await api.as_("piat1").get(f"/audits/{audit_id}")).json()["auditor_id"]


def deadline(v: dict, name: str) -> datetime:
    return at_london(v["deadlines"][name])


def told(sent, audit_id) -> list[tuple[str, list[str], str]]:
    return [(n.channel, n.recipient_ids, n.subject) for n in sent(audit_id)]


async def audit_to_report(api, env, grade, overall=None, auditor="tm2", **overrides) -> str:
    """Allocate, grade, submit and accept: the report goes out at the current instant."""
    area = overrides.get("service_area", "safeguarding")
    audit_id = (await allocate(api, auditor_id=auditor, **overrides))["audit_id"]
    await complete(api, env, audit_id, area, grade, overall, auditor=auditor)
    await submit(api, audit_id, auditor)
    await qa(api, audit_id)
    return audit_id


def findings_discussion(held_on: date, smart: bool = True, attendees=("tm1", "sw1")) -> dict:
    actions = [
        {
            "action": "Visit weekly and see the child alone",
            "owner_id": "sw1",
            "measure": "visits recorded",
            "due_on": day(12, 1).isoformat(),
        }
    ]
    return {
        "held_on": held_on.isoformat(),
        "attendees": list(attendees),
        "smart_actions": actions if smart else [],
        "oversight_note": "Discussed the audit findings in supervision; actions agreed.",
    }


async def discuss_and_accept(api, env, audit_id, smart=True) -> dict:
    r = await api.as_("tm1").post(f"/audits/{audit_id}/findings-discussion", json=findings_discussion(await today(env), smart))
    assert r.status_code == 200, r.text
    assert r.json()["findings_discussion"]["status"] == "recorded"
    r = await api.as_("piat1").post(f"/audits/{audit_id}/findings-discussion/review", json={"decision": "accept"})
    assert r.status_code == 200, r.text
    return r.json()


async def reaudit_to_report(api, env, audit_id, grade, attendees=()) -> None:
    """The re-audit's auditor (the Head of Service) grades, talks it through and submits; PIAT accepts."""
    r = await api.as_("hos1").put(f"/audits/{audit_id}/grading", json=grading(grade=grade))
    assert r.status_code == 200, r.text
    body = conversation(await today(env), grade=grade) | {"attendees": list(attendees)}
    r = await api.as_("hos1").post(f"/audits/{audit_id}/practitioner-conversation", json=body)
    assert r.status_code == 200, r.text
    await submit(api, audit_id, "hos1")
    await qa(api, audit_id)


async def search_attributes(client, workflow_id: str) -> dict:
    """A workflow's search attributes by name. Read raw because the time-skipping server keeps an
    unset attribute as an empty payload, which the SDK's typed `describe()` cannot decode."""
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

    request = DescribeWorkflowExecutionRequest(namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id))
    described = await client.workflow_service.describe_workflow_execution(request)
    fields = described.workflow_execution_info.search_attributes.indexed_fields
    return {name: json.loads(payload.data) for name, payload in fields.items() if payload.data}


def emails(sent, audit_id: str, subject_prefix: str) -> list[tuple[list[str], str]]:
    """(recipients, subject) of the audit's emails whose subject starts with `subject_prefix`."""
    return [(r, s) for c, r, s in told(sent, audit_id) if c == "email" and s.startswith(subject_prefix)]


async def outcome(client, audit_id: str):
    """The audit's whole view once its run has ended (after its discussion, any dispute and the
    re-audit chain): the run returns a small outcome, the `view` query still reads the whole."""
    from workflows.audit import AuditWorkflow

    handle = client.get_workflow_handle_for(AuditWorkflow.run, f"audit-{audit_id}")
    await handle.result()
    return await handle.query(AuditWorkflow.view)


# ---- the staff directory changing under running audits ---------------------------------------


def leave(settings, *staff_ids: str) -> None:
    """They leave the council: the directory file no longer lists them (worker and API re-read it)."""
    path = settings.staff_directory
    head, *members = path.read_text().split("[[staff]]")
    kept = [m for m in members if not any(f'id = "{i}"' in m.split("\n", 2)[1] for i in staff_ids)]
    assert len(kept) == len(members) - len(staff_ids), f"not all of {staff_ids} were in the directory"
    path.write_text("[[staff]]".join([head, *kept]))


def join(settings, id: str, roles: list[str], service_area: str = "safeguarding", manager_id: str | None = None) -> None:
    """A new member of staff appears in the directory."""
    manager = f'manager_id = "{manager_id}"\n' if manager_id else ""
    with open(settings.staff_directory, "a") as f:
        f.write(
            f'\n[[staff]]\nid = "{id}"\nname = "New Starter"\nemail = "{id}@council.example"\n'
            f'roles = {json.dumps(roles)}\nteam = "{service_area} team"\nservice_area = "{service_area}"\n{manager}'
        )


def free_port() -> int:
    """A port free on 127.0.0.1 now, for a server the test starts (some, like aiosmtpd and
    slapd, cannot be asked for port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
