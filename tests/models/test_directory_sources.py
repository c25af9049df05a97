"""The staff directory from its three sources: the council's LDAP directory (a real OpenLDAP,
tests/helpers/ldap_server.py), an HR export in CSV, and the development TOML. Each gives the same people,
roles and lines of management, and each sees a change without a restart."""

import csv
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import ldap3
import pytest

from models.enums import Role
from models.settings import ROOT, Settings
from models.staff import StaffDirectory, StaffMember, directory_for
from models.staff_ldap import LdapDirectory, LdapSettings
from tests.helpers import ldap_server
from tests.helpers.ldap_server import SUFFIX, Slapd

DEV = StaffDirectory.load(ROOT / "data" / "staff.dev.toml")
# A practitioner, their Team Manager, another Team Manager, the Head of Service and PIAT.
PEOPLE = ["sw1", "tm1", "tm2", "hos1", "piat1", "piatmgr1"]
# The directory names services; the service keeps codes (STAFF_LDAP_SERVICE_AREAS).
SERVICES = {"safeguarding": "Safeguarding", "quality_assurance": "Quality Assurance"}
READER_DN, READER_PASSWORD = f"cn=qsaf-reader,{SUFFIX}", "reader-secret"


def group_dn(role: str) -> str:
    return f"cn=QSAF {role},ou=Groups,{SUFFIX}"


def person_dn(member: StaffMember) -> str:
    # As the council files people: under their team's OU, under their service's.
    return f"uid={member.id},ou={member.team},ou={SERVICES[member.service_area]},{SUFFIX}"


def dev(staff_id: str) -> StaffMember:
    return DEV.get(staff_id)


def as_in_ldap(member: StaffMember) -> StaffMember:
    """A dev member as read back: roles sorted; a manager outside the search (ad1, psw1) none."""
    manager = member.manager_id if member.manager_id in PEOPLE else None
    return member.model_copy(update={"roles": sorted(member.roles), "manager_id": manager})


def entries() -> Iterator[tuple[str, list[str], dict]]:
    """The dev directory's PEOPLE as a council's LDAP holds them, with a service account and a
    person half set up (no email) beside them, and a group of everyone that gives no role."""
    people = [dev(i) for i in PEOPLE]
    ous = {(m.team, SERVICES[m.service_area]) for m in people}
    yield SUFFIX, ["dcObject", "organization"], {"dc": "council", "o": "The Council"}
    yield READER_DN, ["organizationalRole", "simpleSecurityObject"], {"cn": "qsaf-reader", "userPassword": READER_PASSWORD}
    yield f"ou=Groups,{SUFFIX}", ["organizationalUnit"], {"ou": "Groups"}
    for service in sorted(set(SERVICES.values())):
        yield f"ou={service},{SUFFIX}", ["organizationalUnit"], {"ou": service}
    for team, service in sorted(ous):
        yield f"ou={team},ou={service},{SUFFIX}", ["organizationalUnit"], {"ou": team}
    for m in people:
        manager = {"manager": person_dn(dev(m.manager_id))} if m.manager_id in PEOPLE else {}
        if m.manager_id and not manager:  # a manager the search does not find (another directorate)
            manager = {"manager": f"uid={m.manager_id},ou=Directors,{SUFFIX}"}
        yield (
            person_dn(m),
            ["inetOrgPerson"],
            {
                "uid": m.id,
                "cn": m.name,
                "sn": m.name.split()[-1],
                "displayName": m.name,
                "mail": m.email,
                "departmentNumber": m.team,
                **manager,
            },
        )
    yield f"uid=new1,ou=Safeguarding,{SUFFIX}", ["inetOrgPerson"], {"uid": "new1", "cn": "Not Ready", "sn": "Ready"}
    for role in sorted({r for m in people for r in m.roles}):
        yield (
            group_dn(role),
            ["groupOfNames"],
            {"cn": f"QSAF {role}", "member": [person_dn(m) for m in people if role in m.roles]},
        )
    yield f"cn=All Staff,ou=Groups,{SUFFIX}", ["groupOfNames"], {"cn": "All Staff", "member": [person_dn(m) for m in people]}


@pytest.fixture
def slapd(tmp_path):
    assert ldap_server.available(), "Debian's slapd is installed by `make slapd`"
    server = Slapd(tmp_path / "slapd").start()
    server.add(*entries())
    yield server
    server.remove()


def ldap_settings(slapd: Slapd, tmp_path: Path, **changes) -> LdapSettings:
    (password := tmp_path / "ldap-password").write_text(READER_PASSWORD + "\n")
    roles = {group_dn(r.value): r.value for r in Role}
    # The directory's spelling of a DN need not be the configuration's.
    roles["CN=QSAF piat, OU=Groups, DC=council, DC=example"] = roles.pop(group_dn("piat"))
    return LdapSettings(
        **{
            "url": slapd.url,
            "bind_dn": READER_DN,
            "bind_password_file": password,
            "base_dn": SUFFIX,
            "filter": "(objectClass=inetOrgPerson)",
            "id_attribute": "uid",
            "team_attribute": "departmentNumber",
            "service_area_attribute": "ou:-1",
            "group_roles": roles,
            "service_areas": {name.upper(): code for code, name in SERVICES.items()},
            "timeout_seconds": 2,
            "page_size": 2,  # a few people a page: the search pages through them as it would through thousands
        }
        | changes
    )


# ---- LDAP ----------------------------------------------------------------------------------


def test_ldap_gives_the_people_their_roles_and_their_lines_of_management(slapd, tmp_path):
    directory = LdapDirectory(ldap_settings(slapd, tmp_path), 300)

    assert sorted(m.id for m in directory.everyone()) == sorted(PEOPLE)  # not the account, nor the half set up
    for staff_id in PEOPLE:
        assert directory.get(staff_id) == as_in_ldap(dev(staff_id))
    assert directory.team_manager_of("sw1").id == "tm1"
    assert directory.head_of_service_of("sw1").id == "hos1"
    assert directory.head_of_service_of("tm2").id == "hos1"
    assert directory.get("piat1").roles == ["auditor", "piat"]  # its group named as the directory spells it
    assert directory.get("sw1").service_area == "safeguarding" and directory.get("sw1").team == "Safeguarding Team 1"
    assert directory.get("hos1").manager_id is None  # ad1 is outside the search: the line ends there
    assert [m.id for m in directory.with_role(Role.HEAD_OF_SERVICE)] == ["hos1"]


def test_a_change_in_ldap_is_seen_at_the_next_refresh_without_a_restart(slapd, tmp_path):
    directory = LdapDirectory(ldap_settings(slapd, tmp_path), 300)
    assert directory.team_manager_of("sw1").id == "tm1"

    slapd.modify(person_dn(dev("sw1")), manager=[person_dn(dev("tm2"))])
    with slapd.admin() as conn:  # and sw1 becomes an auditor
        conn.modify(group_dn("auditor"), {"member": [(ldap3.MODIFY_ADD, [person_dn(dev("sw1"))])]})
    assert directory.team_manager_of("sw1").id == "tm1"  # the directory in force until the refresh

    assert directory.refresh()
    assert directory.team_manager_of("sw1").id == "tm2"
    assert directory.get("sw1").roles == ["auditor", "practitioner"]


def test_the_refresh_runs_by_itself_on_its_interval(slapd, tmp_path):
    directory = LdapDirectory(ldap_settings(slapd, tmp_path), every_seconds=0.2)
    slapd.modify(person_dn(dev("sw1")), manager=[person_dn(dev("tm2"))])

    deadline = time.monotonic() + 10
    while directory.team_manager_of("sw1").id != "tm2" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert directory.team_manager_of("sw1").id == "tm2"

    slapd.stop()  # searches in the background now fail; lookups go on answering from the last good
    for _ in range(10):
        time.sleep(0.1)
        assert directory.team_manager_of("sw1").id == "tm2" and len(directory.everyone()) == len(PEOPLE)


def test_ldap_down_keeps_the_last_good_directory_and_logs_no_one(slapd, tmp_path, caplog):
    directory = LdapDirectory(ldap_settings(slapd, tmp_path), 300)
    before = directory.everyone()

    slapd.stop()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="qsaf.directory"):
        assert not directory.refresh()
    assert directory.everyone() == before
    assert directory.team_manager_of("sw1").id == "tm1"
    [logged] = [r.getMessage() for r in caplog.records if r.name == "qsaf.directory"]
    assert logged == "staff directory not refreshed from LDAP, keeping the last good one (6 members): LDAPSocketOpenError"

    slapd.start()  # back, with a change made while it was down
    slapd.modify(person_dn(dev("sw1")), manager=[person_dn(dev("tm2"))])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="qsaf.directory"):
        assert directory.refresh()
    assert directory.team_manager_of("sw1").id == "tm2"
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "qsaf.directory")
    assert (
        logged == "staff directory: 1 LDAP entries skipped, missing a staff ID, name or email "
        "staff directory refreshed from LDAP: 6 members"
    )
    for person in before:  # counts only: nobody's ID, name or email
        assert person.id not in logged and person.name not in logged and person.email not in logged


def test_a_process_does_not_start_without_its_directory(slapd, tmp_path):
    with pytest.raises(RuntimeError, match="could not be read .LDAPInvalidCredentialsResult."):
        LdapDirectory(ldap_settings(slapd, tmp_path, bind_password_file=None, bind_password="wrong"), 300)
    with pytest.raises(RuntimeError, match="could not be read .LookupError."):  # a filter matching nobody
        LdapDirectory(ldap_settings(slapd, tmp_path, filter="(objectClass=device)"), 300)
    slapd.stop()
    with pytest.raises(RuntimeError, match=f"the staff directory at {slapd.url} could not be read .LDAPSocketOpenError."):
        LdapDirectory(ldap_settings(slapd, tmp_path), 300)
    with pytest.raises(ValueError, match="STAFF_DIRECTORY=ldap needs STAFF_LDAP_BASE_DN"):
        LdapDirectory(ldap_settings(slapd, tmp_path, base_dn=""), 300)


def test_ldaps_checks_the_servers_certificate(tmp_path):
    assert ldap_server.available(), "Debian's slapd is installed by `make slapd`"
    slapd = Slapd(tmp_path / "slapd", tls=True).start()
    try:
        slapd.add(*entries())
        directory = LdapDirectory(ldap_settings(slapd, tmp_path, ca_file=slapd.ca_file), 300)
        assert directory.team_manager_of("sw1").id == "tm1"
        # Without the council's CA the certificate is not trusted, and nothing is read.
        with pytest.raises(RuntimeError, match="could not be read .LDAPSocketOpenError."):
            LdapDirectory(ldap_settings(slapd, tmp_path), 300)
    finally:
        slapd.remove()


def test_staff_directory_ldap_is_configured_from_the_environment(slapd, tmp_path, monkeypatch):
    settings = ldap_settings(slapd, tmp_path)
    monkeypatch.setenv("STAFF_DIRECTORY", "ldap")
    monkeypatch.setenv("STAFF_DIRECTORY_REFRESH_SECONDS", "60")
    for name, value in settings.model_dump(exclude={"bind_password"}, exclude_none=True).items():
        monkeypatch.setenv(f"STAFF_LDAP_{name.upper()}", json.dumps(value) if isinstance(value, dict) else str(value))
    settings = Settings()
    assert settings.staff_directory == "ldap" and settings.staff_directory_refresh_seconds == 60
    directory = directory_for(settings)
    assert isinstance(directory, LdapDirectory)
    assert directory.team_manager_of("sw1").id == "tm1"
    assert directory.get("piat1").roles == ["auditor", "piat"]


def test_a_group_mapped_to_a_role_that_does_not_exist_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("STAFF_LDAP_GROUP_ROLES", '{"cn=QSAF Auditors,ou=Groups,dc=council,dc=example": "auditors"}')
    with pytest.raises(
        ValueError, match="maps 'cn=QSAF Auditors,ou=Groups,dc=council,dc=example' to .'auditors'., which are not roles"
    ):
        Settings()
    monkeypatch.delenv("STAFF_LDAP_GROUP_ROLES")
    monkeypatch.setenv("STAFF_LDAP_SERVICE_AREA_ATTRIBUTE", "ou:first")
    with pytest.raises(ValueError, match="an OU of the DN is ou:1"):
        Settings()


# ---- CSV (an HR export) ------------------------------------------------------------------


def write_csv(
    path: Path,
    members: list[StaffMember],
    header=("id", "name", "email", "roles", "team", "service_area", "manager_id"),
    encoding: str = "utf-8",
) -> None:
    with open(path, "w", newline="", encoding=encoding) as f:
        out = csv.writer(f)
        out.writerow(header)
        for m in members:
            row = m.model_dump() | {"roles": ";".join(m.roles), "manager_id": m.manager_id or "", "grade": "SW2"}
            out.writerow([row.get(column, "") for column in header])


def test_a_csv_export_gives_the_same_directory_as_the_toml(tmp_path):
    path = tmp_path / "staff.csv"
    # As Excel saves it: a byte order mark, a column the service does not use, a blank line.
    write_csv(
        path,
        DEV.everyone(),
        header=("grade", "id", "name", "email", "roles", "team", "service_area", "manager_id"),
        encoding="utf-8-sig",
    )
    path.write_text(path.read_text(encoding="utf-8-sig") + "\n", encoding="utf-8-sig")

    directory = directory_for(Settings(staff_directory=path))
    assert directory.everyone() == DEV.everyone()
    assert directory.team_manager_of("sw1").id == "tm1"
    assert directory.head_of_service_of("sw1").id == "hos1"
    assert directory.get("hos1").roles == ["head_of_service", "senior_manager", "auditor"]


def test_a_changed_csv_is_read_again_and_a_broken_one_keeps_the_last_good(tmp_path, caplog):
    path = tmp_path / "staff.csv"
    write_csv(path, DEV.everyone())
    directory = directory_for(Settings(staff_directory=path))

    moved = [m.model_copy(update={"manager_id": "tm2"}) if m.id == "sw1" else m for m in DEV.everyone()]
    write_csv(path, moved)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))  # the same size: a new time tells it
    assert directory.team_manager_of("sw1").id == "tm2"

    broken = [m.model_copy(update={"roles": ["practitioner", "auditr"]}) if m.id == "sw2" else m for m in moved]
    write_csv(path, broken)
    with caplog.at_level(logging.ERROR, logger="qsaf.directory"):
        assert directory.team_manager_of("sw1").id == "tm2" and "sw2" in directory
    [logged] = [r.getMessage() for r in caplog.records if r.name == "qsaf.directory"]
    assert "staff.csv line 6 has a role that is not one of assistant_director, auditor," in logged
    assert "auditr" not in logged and "Alex Worker" not in logged


def test_a_csv_the_service_cannot_read_is_refused_at_start_naming_what_is_wrong(tmp_path):
    path = tmp_path / "staff.csv"
    write_csv(path, DEV.everyone(), header=("id", "name", "email", "roles", "team", "service_area"))
    with pytest.raises(ValueError, match=r"staff.csv has no column manager_id \(its header row needs id, name, email, roles,"):
        directory_for(Settings(staff_directory=path))
    write_csv(path, [DEV.get("sw1").model_copy(update={"email": " "})])
    with pytest.raises(ValueError, match="staff.csv line 2 has no email"):
        directory_for(Settings(staff_directory=path))


def test_staff_directory_still_names_a_toml_file():
    settings = Settings(staff_directory=str(ROOT / "data" / "staff.dev.toml"))
    directory = directory_for(settings)
    assert type(directory) is StaffDirectory and directory.everyone() == DEV.everyone()
    assert Settings(staff_directory="ldap").staff_directory == "ldap"
