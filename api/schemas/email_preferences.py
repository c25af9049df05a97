"""How a person takes their emails: `GET`/`PUT /me/email-preferences`."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class EmailPreferencesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is refused, not silently ignored

    digest_only: StrictBool = Field(
        description="true: emails that ask nothing urgent of me come only in the weekly digest; a safety concern "
        "and a deadline within a working day are emailed at once all the same"
    )


class EmailPreferences(BaseModel):
    digest_only: bool
    updated_at: datetime | None  # never set: the default, every email at once
