"""The audit → dispute → re-audit chain the fault tests drive a step at a time while workers are
killed or stopped: whatever happens to the workers, it must end the same way."""

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from tests import helpers
from tests.helpers.dates import YEAR, at, cycle_opens, first_working_day, working_days_after
from tests.faults.harness import CRASH_TIMEOUTS, skip_server_time, skip_until
from tests.helpers import disputes

# The chain starts as January's cycle opens; the re-audit is allocated and reported as March's
# opens, and its 5-working-day dispute window (R-DIST-4) has closed by 09:00 on the 6th working day after.
START = cycle_opens(1)
REAUDIT_OPENS = cycle_opens(3)
REAUDIT_FINAL = at(working_days_after(first_working_day(YEAR, 3), 6))

# The chain's notifications whatever happens to the workers: (channel, how many).
EXPECTED_NOTIFICATIONS = {"email": 10, "mosaic_case_note": 3, "mosaic_alert": 2}


@dataclass
class Chain:
    """One audit's way through the steps below; `audit_id` is known once allocated."""

    api: object
    env: object
    audit_id: str = ""

    @property
    def r1(self) -> str:
        return f"{self.audit_id}-r1"

    async def allocate(self):
        self.audit_id = (await helpers.allocate(self.api))["audit_id"]

    async def grade_and_converse(self):
        await helpers.complete(self.api, self.env, self.audit_id, grade="inadequate")

    async def submit(self):
        await helpers.submit(self.api, self.audit_id)

    async def accept(self):
        await helpers.qa(self.api, self.audit_id)

    async def raise_dispute(self):
        await disputes.raise_dispute(self.api, self.audit_id)

    async def meeting(self):
        await disputes.meeting(self.api, self.env, self.audit_id)

    async def summary(self):
        await disputes.summary(self.api, self.audit_id, "resolved")

    async def amend(self):
        # Resolved informally, regraded to Requires Improvement: still re-audited (R-RE-1).
        regrade = helpers.grades(grade="requires_improvement") | {"notes": "x"}
        await disputes.record(self.api, self.audit_id, "amended-grading", "tm2", regrade)

    async def discuss(self):
        await until(
            self.env, lambda: self.view(self.audit_id), lambda v: v and v["findings_discussion"], "the findings discussion"
        )
        await helpers.discuss_and_accept(self.api, self.env, self.audit_id)

    async def to_reaudit(self):
        # Final in January, re-audited as March's cycle opens (February moderates; R-RE-1).
        await skip_until(self.env, REAUDIT_OPENS + timedelta(minutes=5))
        await until(self.env, lambda: self.view(self.r1), bool, "the re-audit's allocation")  # late after a kill

    async def reaudit(self):
        await helpers.reaudit_to_report(self.api, self.env, self.r1, "good")

    async def to_the_end(self):
        await skip_until(self.env, REAUDIT_FINAL)  # the re-audit's dispute window has closed

    async def view(self, audit_id: str) -> dict | None:
        r = await self.api.as_("piat1").get(f"/audits/{audit_id}")
        return r.json() if r.status_code == 200 else None


# In order; `allocate` is never killed *during*: POST /audits mints a new audit ID per call, so
# a client retrying a lost answer would allocate twice. Every other step is an Update on a known
# workflow, which waits for a worker, so it is safe to crash under.
STEPS = [Chain.allocate, Chain.grade_and_converse, Chain.submit, Chain.accept, Chain.raise_dispute, Chain.meeting,
         Chain.summary, Chain.amend, Chain.discuss, Chain.to_reaudit, Chain.reaudit, Chain.to_the_end]  # fmt: skip
NOT_DURING = {Chain.allocate}
# These skip the server's clock themselves: letting time pass beside them would stop it early
# (the test server locks time again when the shorter of two overlapping sleeps ends).
SKIPPING = {Chain.to_reaudit, Chain.to_the_end}


async def until(env, read, ok, what: str, polls: int = 40):
    """Poll `read()` (bounded) until `ok` holds of it. A task a killed worker held comes back
    when its timeout fires, so every few polls let server time pass past those timeouts."""
    for poll in range(1, polls + 1):
        value = await read()
        if ok(value):
            return value
        await (skip_server_time(env, CRASH_TIMEOUTS) if poll % 10 == 0 else asyncio.sleep(0.1))
    raise AssertionError(f"{what}: not there after {polls} polls")
