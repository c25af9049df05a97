"""Plain HTML forms read into the API's own request models.

A form field is named by its path in the JSON body the API takes (`domains.0.grade`,
`overall.rationale`, `improvement_plan.1.due_on`), so one model validates both, and a refusal's
field (`domains.0.rationale`) names the very input to show its message beside."""

from urllib.parse import parse_qsl

from fastapi import Request

from web.render import Refusal

MAX_FORM_BYTES = 1_000_000  # the API's own limits (models/limits.py) fit well inside this
# Fields that take several staff IDs or names: checkboxes, or one box with commas between them.
LIST_FIELDS = {"attendees", "domains_disputed"}
KEY_PATTERN = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")


class Form:
    """The submitted fields, in order, each name with every value it was sent."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs

    def get(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.pairs if k == name), default)

    def values(self) -> dict[str, str | list[str]]:
        """For re-filling the form after a refusal: what was typed stays."""
        filled: dict[str, str | list[str]] = {}
        for name, value in self.pairs:
            if name in LIST_FIELDS:
                filled.setdefault(name, []).append(value)
            else:
                filled[name] = value
        return filled

    def idempotency_key(self) -> str | None:
        """Each form carries a key made when the page was drawn: a double click, or sending the form
        again after a timeout, repeats nothing (the API's `Idempotency-Key`)."""
        key = self.get("idempotency_key")
        return key if 0 < len(key) <= 64 and set(key) <= KEY_PATTERN else None

    def body(self, drop: tuple[str, ...] = ("idempotency_key", "next")) -> dict:
        """The JSON body the form stands for. A blank field is left out, so the model's default
        applies (a blank grade is "not applicable") or the model says it is required; a row of a
        list left wholly blank (a spare improvement action) is no row."""
        tree: dict = {}
        for name, value in self.pairs:
            if name in drop or name.startswith("_"):
                continue
            if name in LIST_FIELDS:
                items = [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
                tree.setdefault(name, []).extend(items)
                continue
            if value.strip():
                _put(tree, name.split("."), value.strip())
        return _lists(tree)


async def read_form(request: Request) -> Form:
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise Refusal(413, f"the form is over {MAX_FORM_BYTES // 1000} KB: shorten the longest text")
    return Form(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))


def _put(tree: dict, path: list[str], value: str) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
        if not isinstance(tree, dict):
            return  # a name that is both a value and a group: ignore the odd one out
    tree[path[-1]] = value


def _lists(node):
    """`{"0": {...}, "1": {...}}` becomes a list in index order; empty rows drop out."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int) if converted[key] not in ({}, None, "")]
    return converted
