"""What operators see in the Web UI: search attributes, current details, summaries."""

from temporalio.api.sdk.v1 import WorkflowMetadata

from models import search_attributes as sa
from tests.helpers.dates import YEAR, at, cycle, deadline_after, first_working_day, working_days_after
from tests.helpers import allocate, complete, qa, search_attributes, skip_to, submit

SUBMITTED_ON = working_days_after(first_working_day(YEAR, 1), 5)  # a week into January's cycle (11 January in 2027)
QA_DUE = deadline_after(SUBMITTED_ON, 1)  # R-QA-1: PIAT has 1 working day
REPORTED_ON = working_days_after(SUBMITTED_ON, 2)  # the morning after QA was due, when PIAT accepts it


async def test_search_attributes_and_current_details_follow_the_audit(api, env, client):
    await skip_to(env, at(SUBMITTED_ON))
    audit_id = (await allocate(api))["audit_id"]
    await complete(api, env, audit_id, grade="requires_improvement")
    await submit(api, audit_id)
    handle = client.get_workflow_handle(f"audit-{audit_id}")

    attributes = (await handle.describe()).typed_search_attributes
    assert attributes[sa.AUDIT_STAGE] == "awaiting_qa"
    assert attributes[sa.AUDIT_CYCLE] == cycle(1)
    assert attributes[sa.AUDIT_SERVICE_AREA] == "safeguarding"
    assert attributes[sa.AUDIT_KIND] == "standard"
    assert attributes.get(sa.AUDIT_OVERALL_GRADE) is None  # a draft grading is not reported (R-REP-2)
    assert attributes[sa.OVERDUE] is False
    assert attributes[sa.AUDIT_DUE_TIME] == QA_DUE

    await skip_to(env, at(REPORTED_ON))
    assert (await handle.describe()).typed_search_attributes[sa.OVERDUE] is True

    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    details = metadata.current_details
    assert details.startswith("**awaiting_qa**: waiting for quality assurance by PIAT from `piat`")
    assert f"{QA_DUE:%A %-d %B %Y} 17:00" in details and "**overdue**: qa" in details
    # No personal data: identifiers and codes only.
    assert "sw1" not in str(attributes) and "Sam" not in details

    # Final once on Mosaic, after the dispute window: only then does the grade count.
    await qa(api, audit_id)
    assert "AuditOverallGrade" not in await search_attributes(client, f"audit-{audit_id}")
    # The morning after the window closes (5 working days after the report, R-DIST-4).
    await skip_to(env, at(working_days_after(REPORTED_ON, 6)))
    assert (await search_attributes(client, f"audit-{audit_id}"))["AuditOverallGrade"] == "requires_improvement"
