"""Fuzzing: schemathesis generates requests from the OpenAPI document for every route, sent with
dev tokens of several roles against the real app (served by uvicorn), half of them naming a real
audit, dispute or concern. Nothing may answer 5xx: every refusal is a 4xx with a reason, and every
answer is JSON or the type its route declares (a report's CSV or chart). Bounded:
FUZZ_EXAMPLES examples per route (default 10)."""

import asyncio
from collections import Counter
import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from hypothesis import strategies as st

from tests.helpers.dates import YEAR, at, first_working_day
from tests.helpers import audit_to_report, skip_to
from tests.helpers.disputes import raise_dispute
from tests.helpers.served import Served, served_app

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
ROLES = ["piat1", "tm1", "tm2", "sw1", "hos1", "cdqs1", "nobody"]


@pytest.mark.timeout(300)
async def test_no_route_answers_5xx_to_generated_requests(api, env, client, settings, engine, directory):
    await skip_to(env, at(first_working_day(YEAR, 1)))  # the January cycle opens
    audit_id = await audit_to_report(api, env, "requires_improvement")
    await raise_dispute(api, audit_id)
    real = {"audit_id": audit_id, "dispute_id": audit_id, "concern_id": f"{audit_id}-1"}
    with Served(served_app(env, settings, engine, directory)) as served:
        schema = schemathesis.openapi.from_dict(httpx.get(f"{served.url}/openapi.json").json())
        failures, answers = await asyncio.to_thread(fuzz, schema, served.url, real)
    assert failures == [], "\n".join(failures[:20])
    operations = len(list(schema.get_all_operations()))
    assert sum(answers.values()) >= operations * EXAMPLES / 2, answers  # it really did ask
    print(f"\n{operations} routes, answers by status: {dict(sorted(answers.items()))}")


def fuzz(schema, base_url: str, real: dict) -> tuple[list[str], Counter]:
    failures: list[str] = []
    answers: Counter = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        # JSON, or a type the route declares (a report's CSV and charts: text/csv, image/svg+xml).
        declared = {t for r in operation.definition.raw.get("responses", {}).values() for t in r.get("content", {})}

        @given(case=operation.as_strategy(), role=st.sampled_from(ROLES), use_real=st.booleans())
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case, role, use_real):  # run at once below, inside this iteration: B023 does not apply
            if use_real:
                for name in case.path_parameters or {}:
                    case.path_parameters[name] = real.get(name, case.path_parameters[name])
            response = case.call(base_url=base_url, headers={"Authorization": f"Bearer dev-{role}"}, timeout=30)
            answers[response.status_code] += 1
            kind = ", ".join(response.headers.get("content-type", []))  # schemathesis: each header a list of values
            if response.status_code >= 500 or not any(t in kind for t in declared | {"application/json"}):  # noqa: B023
                failures.append(f"{operation.label} as {role}: {response.status_code} {response.text[:200]}")  # noqa: B023

        check()
    return failures, answers
