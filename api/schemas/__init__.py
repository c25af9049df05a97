"""The API's request and response bodies (one module a concern): the JSON it takes and gives, apart
from the workflow payloads (models/payloads.py) a history records. A request maps to its payload in
`to_payload`, at the service boundary (services/), so renaming a field here never changes a recorded
payload: field for field today, a renamed field maps there."""

from typing import ClassVar

from pydantic import BaseModel


class Request(BaseModel):
    """A request body that a workflow update carries on as `payload`."""

    payload: ClassVar[type[BaseModel]]

    def to_payload(self) -> BaseModel:
        return self.payload.model_validate(self.model_dump())
