"""My deadlines as a calendar feed: `POST /me/calendar-feed` answers its secret link, once."""

from datetime import datetime

from pydantic import BaseModel, Field


class CalendarFeedLink(BaseModel):
    url: str = Field(
        description="The feed's secret link (an iCalendar feed, text/calendar): subscribe to it in Outlook (Add calendar, "
        "Subscribe from web). Anyone holding it can read your deadlines, so keep it to yourself; it is shown this once, "
        "and a new link or `DELETE /me/calendar-feed` stops it."
    )
    token: str = Field(description="The secret in the link, alone (URL-safe): what the link's path carries")
    created_at: datetime


class CalendarFeedRevoked(BaseModel):
    revoked_at: datetime  # from then on the link answers 404
