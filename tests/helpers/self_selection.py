"""A self-selection request (R-ALLOC-2) through the API, asked of a case on the open-case list."""

from tests.helpers.dates import INVOLVED_SINCE, cycle
from tests.helpers.cases import upload

# The case, its practitioner (sw1, of tm1's team) and its service come from the open-case list;
# the request names the case, the audit it asks for, and why.
ASK = {
    "case_ref": "C-300",
    "kind": "standard",
    "cycle": cycle(1),
    "reason": "I supervised the previous worker on this case and know its history (Appendix C)",
}
OPEN_CASES = "case_ref,service_area,practitioner_id,involvement_start,cp_chair_or_iro_id\n" + "".join(
    f"{ref},safeguarding,sw1,{INVOLVED_SINCE.isoformat()},iro1\n" for ref in ("C-300", "C-301", "C-302")
)


async def import_cases(api, text: str = OPEN_CASES) -> None:
    r = await upload(api, text)
    assert r.status_code == 200, r.text


async def ask(api, by="tm2", status=201, **changes) -> dict:
    """Asked of a case on the open-case list (imported first: an import replaces the list)."""
    await import_cases(api)
    r = await api.as_(by).post("/self-selection-requests", json=ASK | changes)
    assert r.status_code == status, r.text
    return r.json()
