"""A safety concern raised through the API (R-SAFE-1), and the urgent emails it sends."""

CONCERN = {
    "description": "The child disclosed an injury at the last visit and no strategy discussion is recorded.",
    "immediate_action_needed": True,
}


async def raise_concern(api, audit_id, by="tm2", body=CONCERN) -> dict:
    r = await api.as_(by).post(f"/audits/{audit_id}/safety-concerns", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def urgent_emails(sent, audit_id) -> list[tuple[list[str], str]]:
    return [(n.recipient_ids, n.key.rsplit("/", 1)[-1]) for n in sent(audit_id) if n.subject.startswith("URGENT: safety concern")]
