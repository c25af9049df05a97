"""Limits on what a request may carry, declared once so the OpenAPI schema shows them.

Every request travels on as a Temporal payload and is recorded in the workflow's history,
which refuses a payload over 2 MB and a history over 50 MB. Unbounded input would be accepted
here and then fail every later action on that audit; bounded input is refused up front with a
422 that names the field and its limit.
"""

from typing import Annotated, TypeVar

from annotated_types import MinLen
from pydantic import BaseModel, Field

MAX_TEXT = 10_000  # characters of free text: notes, rationales, findings
MAX_ITEM_TEXT = 1_000  # an action or measure in a list of up to MAX_ITEMS: a sentence, not a report
MAX_THEME = 200  # a themed audit's theme is a title, not a report
MAX_ID = 64  # staff IDs, case references, domain names
MAX_ITEMS = 50  # improvement actions, SMART actions, attendees, disputed domains
MAX_ROW_ID = 2**63 - 1  # a table's integer key: 64 bits, signed, in SQLite and PostgreSQL alike
MAX_CONFIRMED = 2_000  # allocations in one confirmation: a selection is up to 50 per team, a month of a large council

CASE_REF = r"^[A-Za-z0-9][A-Za-z0-9-]*$"  # a case record's identifier, never a name (length: MAX_ID)

Text = Annotated[str, Field(max_length=MAX_TEXT)]
RequiredText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
ItemText = Annotated[str, Field(min_length=1, max_length=MAX_ITEM_TEXT)]
Theme = Annotated[str, Field(max_length=MAX_THEME)]
Identifier = Annotated[str, Field(min_length=1, max_length=MAX_ID)]
StaffId = Identifier
DomainName = Annotated[str, Field(min_length=1, max_length=MAX_ID, description='a domain of the audit tool, or "overall"')]

T = TypeVar("T")
Items = Annotated[list[T], Field(max_length=MAX_ITEMS)]  # `Items[SmartAction]`


def blank_required(value: object, path: tuple[str | int, ...] = ("body",)) -> list[tuple[str | int, ...]]:
    """Where `value` holds required text (a field with a minimum length) that is only spaces.

    Checked where a request is sent on, not by the types: the same types decode the payloads a
    workflow's history recorded, which must replay as they were, blank or not."""
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in blank_required(item, (*path, i))]
    if not isinstance(value, BaseModel):
        return []
    found = []
    for name, info in type(value).model_fields.items():
        field = getattr(value, name)
        if isinstance(field, str):
            if not field.strip() and any(isinstance(m, MinLen) and m.min_length > 0 for m in info.metadata):
                found.append((*path, name))
        else:
            found += blank_required(field, (*path, name))
    return found
