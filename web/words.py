"""The council's words for what the code calls by its values: a stage, a role, a service area, a
form's field, a cycle. The API keeps its values and its messages (clients and tests read them);
the pages say the words, and take the rule codes out (they stay in the docs and the operator's
view) and ISO dates (a person reads "Monday 4 January 2027")."""

import re
from collections.abc import Callable
from datetime import date, datetime

from models.cycles import cycle_label
from models.enums import Role, ServiceArea, Stage

# What a stage is, as the audit's page heads it.
STAGES = {
    Stage.ALLOCATED: "Waiting for the initial grading",
    Stage.INITIALLY_GRADED: "Waiting for the practitioner conversation",
    Stage.FINALLY_GRADED: "Waiting to be submitted for quality assurance",
    Stage.AWAITING_QA: "Waiting for quality assurance",
    Stage.REVISIONS_REQUESTED: "Returned for amendment",
    Stage.ACCEPTED: "Accepted: the report is on its way",
    Stage.NOT_ACCEPTED: "Not accepted: carried into the next cycle",
    Stage.DISPUTE_WINDOW: "Report sent: open to dispute",
    Stage.IN_DISPUTE: "In dispute",
    Stage.REAUDIT_PLANNED: "Re-audit planned",
    Stage.REAUDIT_IN_PROGRESS: "Re-audit in progress",
    Stage.COMPLETED: "Completed",
}
# The same, inside a sentence: "cannot submit … while the audit is <this>".
AUDIT_IS = {
    Stage.ALLOCATED: "waiting for the initial grading",
    Stage.INITIALLY_GRADED: "waiting for the practitioner conversation",
    Stage.FINALLY_GRADED: "waiting to be submitted for quality assurance",
    Stage.AWAITING_QA: "waiting for quality assurance",
    Stage.REVISIONS_REQUESTED: "returned for amendment",
    Stage.ACCEPTED: "accepted, its report on its way",
    Stage.NOT_ACCEPTED: "not accepted and carried into the next cycle",
    Stage.DISPUTE_WINDOW: "open to dispute",
    Stage.IN_DISPUTE: "in dispute",
    Stage.REAUDIT_PLANNED: "waiting for its re-audit",
    Stage.REAUDIT_IN_PROGRESS: "being re-audited",
    Stage.COMPLETED: "completed",
}
# Whom a role names, as "from <this>" reads.
ROLES = {
    Role.PIAT: "the audit team (PIAT)",
    Role.PIAT_MANAGER: "the PI&A Manager",
    Role.PRACTITIONER: "a practitioner",
    Role.TEAM_MANAGER: "a Team Manager",
    Role.HEAD_OF_SERVICE: "a Head of Service",
    Role.AUDITOR: "an auditor",
    Role.SENIOR_MANAGER: "a senior manager",
    Role.CP_CHAIR: "a CP Chair",
    Role.IRO: "an IRO",
    Role.PSW: "the Principal Social Worker",
    Role.ASSISTANT_DIRECTOR: "an Assistant Director",
    Role.DIRECTOR: "the Director",
    Role.CORPORATE_DIRECTOR_QUALITY_STANDARDS: "the Corporate Director for Quality Standards",
    Role.CORPORATE_DIRECTOR_CSC: "the Corporate Director for Children's Social Care",
    Role.SLT_MODERATOR: "the SLT moderators",
    "dispute": "the dispute's next step",
    "system": "the service, at the re-audit's cycle",
    "re-auditor": "the re-audit",
}
SERVICES = {
    ServiceArea.MASH: "MASH",
    ServiceArea.SAFEGUARDING: "Safeguarding",
    ServiceArea.CORPORATE_PARENTING: "Corporate Parenting",
    ServiceArea.CARE_EXPERIENCED: "Care Experienced",
    ServiceArea.FOSTERING_ADOPTION: "Fostering and Adoption",
    ServiceArea.SEND: "SEND",
}
TOOLS = {
    "safeguarding_corporate_parenting_send": "Safeguarding, Corporate Parenting and SEND",
    "care_experienced_young_adults": "Care Experienced Young Adults",
    "fostering_and_adoption": "Fostering and Adoption",
    "mash": "MASH",
}
# A form field's last part, in words.
FIELDS = {
    "rationale": "rationale",
    "grade": "grade",
    "owner_id": "owner",
    "due_on": "due date",
    "held_on": "date",
    "action": "what will be done",
    "measure": "how progress is measured",
    "auditor_id": "new auditor",
    "staff_id": "who takes it over",
    "domains_disputed": "what you dispute",
}
LISTS = {"improvement_plan": "improvement action", "smart_actions": "SMART action", "actions": "action"}

RULE_CODES = re.compile(r"\s*\((?:R-[A-Z]+(?:-\d+[a-z]?)?(?:\.\.\d+)?(?:,\s*)?)+\)|,?\s*\bR-[A-Z]+-\d+[a-z]?\b\.?")
WHILE_THE_AUDIT_IS = re.compile(r"while the audit is ([a-z_]+)")
ISO_INSTANT = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?")
ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
CYCLE = re.compile(r"\b(cycle|into|in) (\d{4}-(?:0[1-9]|1[0-2]))\b")


def stage(value: Stage | str) -> str:
    text = str(getattr(value, "value", value))
    return STAGES.get(text, text.replace("_", " "))  # type: ignore[call-overload]


def role(value: str | None) -> str:
    return ROLES.get(value, str(value).replace("_", " ")) if value else "nobody"  # type: ignore[call-overload]


def service(value: ServiceArea | str | None) -> str:
    """A service area (or a directory's wider one, e.g. "children_social_care") in words."""
    text = str(getattr(value, "value", value) or "")
    return SERVICES.get(text, text.replace("_", " "))  # type: ignore[call-overload]


def tool(name: str) -> str:
    """An audit tool's name (data/audit_tools.toml's key) in words: "SEND", not "send"."""
    return TOOLS.get(name, name.replace("_", " "))


def field(path: str, domains: list[str] | None = None) -> str:
    """`domains.1.rationale` reads "Assessment and analysis: rationale"; `overall.rationale`
    "Overall rationale"; `improvement_plan.0.owner_id` "Improvement action 1: owner"."""
    parts = path.split(".")
    if parts[0] == "regrade":
        parts = parts[1:]
    if len(parts) >= 2 and parts[0] == "domains" and parts[1].isdigit():
        i = int(parts[1])
        name = domains[i] if domains and i < len(domains) else f"Domain {i + 1}"
        return f"{name}: {FIELDS.get(parts[-1], parts[-1].replace('_', ' '))}" if len(parts) > 2 else name
    if len(parts) >= 2 and parts[0] in LISTS and parts[1].isdigit():
        head = f"{LISTS[parts[0]].capitalize()} {int(parts[1]) + 1}"
        return f"{head}: {FIELDS.get(parts[-1], parts[-1].replace('_', ' '))}" if len(parts) > 2 else head
    if parts[0] == "overall" and len(parts) == 2:
        return f"Overall {FIELDS.get(parts[1], parts[1].replace('_', ' '))}"
    last = FIELDS.get(parts[-1], parts[-1].replace("_", " "))
    return last[:1].upper() + last[1:]


def plain(text: str | None, instant: Callable[[datetime], str], day: Callable[[date], str]) -> str:
    """A message or a timeline's entry as a person reads it: no rule codes, stages in words, ISO
    dates and cycles in words (`instant` and `day` write them, as the page's filters do)."""
    if not text:
        return ""
    text = RULE_CODES.sub("", text)
    text = WHILE_THE_AUDIT_IS.sub(lambda m: f"while the audit is {_audit_is(m.group(1))}", text)
    text = ISO_INSTANT.sub(lambda m: _instant(m.group(0), instant), text)
    text = ISO_DAY.sub(lambda m: _day(m, day), text)
    return CYCLE.sub(lambda m: f"{m.group(1)} {cycle_label(m.group(2))}", text)


def _audit_is(value: str) -> str:
    try:
        return AUDIT_IS[Stage(value)]
    except ValueError:
        return value.replace("_", " ")


def _instant(text: str, instant: Callable[[datetime], str]) -> str:
    try:
        return instant(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return text


def _day(match: re.Match[str], day: Callable[[date], str]) -> str:
    try:
        return day(date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
    except ValueError:
        return match.group(0)
