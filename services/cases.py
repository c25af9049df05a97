"""The open-case list PIAT imports from Mosaic, from which cycles select (R-ALLOC-1).

Only what selection needs is kept: the case reference, its service, the practitioner (and so
their team), when Children's Social Care became involved, and the CP Chair / IRO. Any other
column of the export (a child's name, an address) is never read into the service: the answer
names it as ignored. Rows are checked one by one; one bad row refuses the whole file, listing
every bad row with its reason, so nothing is half-imported. An import replaces the list."""

import csv
import io
import re
from datetime import date, datetime

from sqlmodel import Session, delete, select

from api.schemas.year import CaseOut, ImportResult, RefusedRow
from models.enums import Role, ServiceArea
from models.limits import CASE_REF, MAX_ID
from models.staff import StaffDirectory
from models.tables import OpenCase
from services.errors import Refused

COLUMNS = ("case_ref", "service_area", "practitioner_id", "involvement_start", "cp_chair_or_iro_id")
MAX_BYTES = 5_000_000  # some 50,000 rows: more than a council's open cases


def import_cases(session: Session, directory: StaffDirectory, raw: bytes, now: datetime) -> ImportResult:
    """The CSV export of open cases, with a header row naming at least the five columns. An import
    replaces the list, so sending it again (with or without the same key) changes nothing."""
    if len(raw) > MAX_BYTES:
        raise Refused(413, f"the file is over {MAX_BYTES // 1_000_000} MB")
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        header = reader.fieldnames or []
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        raise Refused(422, f"not a UTF-8 CSV file: {type(error).__name__}") from None
    if missing := [c for c in COLUMNS if c not in header]:
        raise Refused(422, f"the header row lacks the columns {missing}; it needs {list(COLUMNS)}")
    cases, refused = _check(rows, directory, now)
    if refused:
        raise Refused(
            422,
            f"{len(refused)} rows refused; nothing was imported" + (" (the first 50 listed)" if len(refused) > 50 else ""),
            refused=[r.model_dump() for r in refused[:50]],
        )
    session.exec(delete(OpenCase))
    session.add_all(cases)
    session.commit()
    return ImportResult(imported=len(cases), ignored_columns=[c for c in header if c not in COLUMNS])


def _check(rows: list[dict], directory: StaffDirectory, now: datetime) -> tuple[list[OpenCase], list[RefusedRow]]:
    cases, refused, seen = [], [], set()
    for line, row in enumerate(rows, start=2):
        try:
            case = _case(row, directory, now)
            if case.case_ref in seen:
                raise ValueError(f"case {case.case_ref} appears twice")
            seen.add(case.case_ref)
            cases.append(case)
        except ValueError as error:
            refused.append(RefusedRow(row=line, reason=str(error)[:200]))
    return cases, refused


def _case(row: dict, directory: StaffDirectory, now: datetime) -> OpenCase:
    value = {c: (row.get(c) or "").strip() for c in COLUMNS}
    if len(value["case_ref"]) > MAX_ID or not re.match(CASE_REF, value["case_ref"]):
        raise ValueError("case_ref must be the case identifier (letters, digits, dashes; at most 64)")
    try:
        area = ServiceArea(value["service_area"])
    except ValueError:
        raise ValueError(f"service_area must be one of {[a.value for a in ServiceArea]}") from None
    practitioner = directory.get(value["practitioner_id"])
    if practitioner is None or not practitioner.has(Role.PRACTITIONER):
        raise ValueError("practitioner_id is not a practitioner in the staff directory")
    try:
        started = date.fromisoformat(value["involvement_start"])
    except ValueError:
        raise ValueError("involvement_start must be a date, YYYY-MM-DD") from None
    if started > now.date():
        raise ValueError("involvement_start is in the future")
    chair = value["cp_chair_or_iro_id"] or None
    if chair and not ((m := directory.get(chair)) and (m.has(Role.IRO) or m.has(Role.CP_CHAIR))):
        raise ValueError("cp_chair_or_iro_id is not a CP Chair or IRO in the staff directory")
    return OpenCase(
        case_ref=value["case_ref"],
        service_area=area.value,
        practitioner_id=practitioner.id,
        team=practitioner.team,
        involvement_start=started,
        cp_chair_or_iro_id=chair,
        imported_at=now,
    )


def list_cases(
    session: Session, *, service_area: ServiceArea | None = None, team: str | None = None, limit: int = 1000
) -> list[CaseOut]:
    query = select(OpenCase)
    if service_area is not None:
        query = query.where(OpenCase.service_area == service_area.value)
    if team is not None:
        query = query.where(OpenCase.team == team)
    return [CaseOut(**c.model_dump()) for c in session.exec(query.order_by(OpenCase.case_ref).limit(limit))]
