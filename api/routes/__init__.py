"""The API's routers, one a resource, in the order api/main.py includes them. Each route checks
who may (api/permissions.py) and hands the request to its service (services/)."""

from api.routes import (
    action_log,
    allocation,
    audit_tools,
    audits,
    calendar_feed,
    cases,
    cycles,
    disputes,
    email_preferences,
    moderation,
    my_work,
    plans,
    reports,
    safety,
    selections,
    self_selection,
)

ROUTERS = [
    module.router
    for module in (
        allocation,
        audits,
        audit_tools,
        disputes,
        safety,
        self_selection,
        cases,
        selections,
        cycles,
        moderation,
        reports,
        plans,
        my_work,
        calendar_feed,
        email_preferences,
        action_log,
    )
]
