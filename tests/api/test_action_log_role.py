"""The action log the app cannot rewrite, on PostgreSQL with production's roles
(deploy/postgres/10-roles.sql): the migrations run as `qsaf_owner`, the app as `qsaf`, which may
add to the log and read it and nothing more; and the reads of a child's records in the log."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from database import engine_for
from tests.helpers.dates import YEAR, at, first_working_day
from tests.helpers import audit_to_report, eventually, skip_to
from tests.helpers.disputes import raise_dispute
from tests.helpers.safety import raise_concern

OPENS = at(first_working_day(YEAR, 1))


@pytest.fixture
def owner_and_app(production_roles) -> tuple[str, str]:
    return production_roles.new_database()


@pytest.fixture
def database_url(owner_and_app) -> str:
    """Every process of the test (API, worker, relay) on the app's role."""
    return owner_and_app[1]


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"migrate_at_start": False})  # as production: the owner migrated


@pytest.fixture
def engine(settings):
    return engine_for(settings)  # checks the schema is current, as the app's role can


def refused(connection_url: str, statement: str, match: str = "permission denied|must be owner") -> None:
    engine = create_engine(connection_url)
    with pytest.raises(DBAPIError, match=match), engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


ENTRY = "INSERT INTO action_log (at, request_id, method, route, status) VALUES (:at, 'r', 'POST', '/audits', 201) RETURNING id"


def test_the_app_role_adds_to_and_reads_the_action_log_and_cannot_change_it(owner_and_app):
    owner, app = owner_and_app
    engine = create_engine(app)
    with engine.begin() as connection:
        connection.execute(text(ENTRY), {"at": datetime.now(UTC)})
        assert connection.execute(text("SELECT count(*) FROM action_log")).scalar_one() == 1
    engine.dispose()
    for statement in (
        "UPDATE action_log SET status = 200",
        "DELETE FROM action_log",
        "TRUNCATE action_log",
        "DROP TRIGGER action_log_append_only ON action_log",
        "ALTER TABLE action_log DISABLE TRIGGER action_log_append_only",
        "DROP TABLE action_log",
        "CREATE OR REPLACE FUNCTION action_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
        # Nor can it shorten the retention the log is purged to, or erase a purge's count.
        "UPDATE retention_floor SET days = 1",
        "DELETE FROM retention_floor",
        "DELETE FROM purged",
        "CREATE TABLE mine (id integer)",
    ):
        refused(app, statement)
    # The owner, whose migrations may change a table, is refused by the triggers all the same.
    refused(owner, "UPDATE action_log SET status = 200", match="append-only")
    refused(owner, "DELETE FROM action_log", match="append-only")


def test_the_app_role_purges_only_rows_past_the_databases_retention(owner_and_app):
    owner, app = owner_and_app
    engine = create_engine(app)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        old, new = (connection.execute(text(ENTRY), {"at": t}).scalar_one() for t in (now - timedelta(days=3700), now))
        # Asked for everything before now, it deletes only what is past the floor (seven years).
        assert connection.execute(text("SELECT purge_action_log(:t)"), {"t": now + timedelta(days=1)}).scalar_one() == 1
        assert connection.execute(text("SELECT id FROM action_log")).scalars().all() == [new]
    engine.dispose()
    assert old != new


async def test_the_app_works_as_its_role_and_its_reads_of_a_childs_records_are_logged(api, env, client, sent):
    """Allocation, grading, QA, a dispute, a safety concern and the emails they send, as `qsaf`;
    then who read which of them, when, in `GET /action-log` (route and IDs, never the answer)."""
    await skip_to(env, OPENS)
    audit_id = await audit_to_report(api, env, "good")
    dispute = await raise_dispute(api, audit_id)
    concern = await raise_concern(api, audit_id)
    await eventually(lambda: all(n.delivery == "sent" for n in sent(audit_id)) and sent(audit_id))
    read_at = await env.get_current_time()

    reads = [
        ("tm2", f"/audits/{audit_id}", 200),
        ("sw1", f"/audits/{audit_id}/notifications", 200),
        ("sw1", f"/disputes/{dispute['dispute_id']}", 200),
        ("tm2", f"/safety-concerns/{concern['concern_id']}", 200),
        ("sw2", f"/audits/{audit_id}", 403),  # refused, and still someone's attempt
        ("piat1", "/audits", 200),
        ("tm2", "/me/work", 200),  # a list is one entry; one's own work is not logged
    ]
    for who, url, status in reads:
        assert (await api.as_(who).get(url)).status_code == status, url
    page = await api.http.get(f"/app/audits/{audit_id}", headers={"Cookie": "__Host-qsaf_session=dev-tm2"})
    assert page.status_code == 200

    logged = (await api.as_("piat1").get("/action-log", params={"limit": 500})).json()["entries"]
    gets = [(e["actor_id"], e["route"], e["target_id"], e["audit_id"], e["status"]) for e in logged if e["method"] == "GET"]
    assert gets[::-1] == [
        ("tm2", "/audits/{audit_id}", audit_id, audit_id, 200),
        ("sw1", "/audits/{audit_id}/notifications", audit_id, audit_id, 200),
        ("sw1", "/disputes/{dispute_id}", dispute["dispute_id"], audit_id, 200),
        ("tm2", "/safety-concerns/{concern_id}", concern["concern_id"], audit_id, 200),
        ("sw2", "/audits/{audit_id}", audit_id, audit_id, 403),
        ("piat1", "/audits", None, None, 200),
        ("tm2", "/app/audits/{audit_id}", audit_id, audit_id, 200),
    ]
    assert all(datetime.fromisoformat(e["at"]) >= read_at for e in logged if e["method"] == "GET")
    assert set(logged[0]) == {"id", "at", "request_id", "actor_id", "method", "route", "target_id", "audit_id", "status"}
