"""What a service refuses, and why: the status the API answers with and the words a person reads
(api/errors.py turns it into `{"detail": ...}`; the pages show it beside the form)."""

from typing import Any


class Refused(Exception):
    """A request the framework's rules refuse: 403, 404, 409, 413 or 422 with `detail` (and any
    further fields of the answer's body in `more`)."""

    def __init__(self, status_code: int, detail: str, **more: Any):
        super().__init__(detail)
        self.status_code, self.detail, self.more = status_code, detail, more


def unprocessable(detail: str) -> Refused:
    return Refused(422, detail)
