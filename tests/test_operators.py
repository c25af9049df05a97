"""What operators see in the Web UI: search attributes, current details, summaries."""

from temporalio.api.sdk.v1 import WorkflowMetadata

from models import search_attributes as sa
from tests.helpers import allocate, complete, london, qa, search_attributes, skip_to, submit


async def test_search_attributes_and_current_details_follow_the_audit(api, env, client):
    await skip_to(env, london(2027, 1, 11, 9))
    audit_id = (await allocate(api))["audit_id"]
    await complete(api, env, audit_id, grade="requires_improvement")
    await submit(api, audit_id)
    handle = client.get_workflow_handle(f"audit-{audit_id}")

    attributes = (await handle.describe()).typed_search_attributes
    assert attributes[sa.AUDIT_STAGE] == "awaiting_qa"
    assert attributes[sa.AUDIT_CYCLE] == "2027-01"
    assert attributes[sa.AUDIT_SERVICE_AREA] == "safeguarding"
    assert attributes[sa.AUDIT_KIND] == "standard"
    assert attributes.get(sa.AUDIT_OVERALL_GRADE) is None  # a draft grading is not reported (R-REP-2)
    assert attributes[sa.AUDIT_OVERDUE] is False
    assert attributes[sa.AUDIT_DUE_TIME] == london(2027, 1, 12, 17)

    await skip_to(env, london(2027, 1, 13, 9))
    assert (await handle.describe()).typed_search_attributes[sa.AUDIT_OVERDUE] is True

    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    details = metadata.current_details
    assert details.startswith("**awaiting_qa**: waiting for quality assurance by PIAT from `piat`")
    assert "Tuesday 12 January 2027 17:00" in details and "**overdue**: qa" in details
    # No personal data: identifiers and codes only.
    assert "sw1" not in str(attributes) and "Sam" not in details

    # Final once on Mosaic, after the dispute window: only then does the grade count.
    await qa(api, audit_id)
    assert "AuditOverallGrade" not in await search_attributes(client, f"audit-{audit_id}")
    await skip_to(env, london(2027, 1, 21, 9))
    assert (await search_attributes(client, f"audit-{audit_id}"))["AuditOverallGrade"] == "requires_improvement"
