"""The staff directory read from the council's LDAP directory (Active Directory): `STAFF_DIRECTORY=ldap`.

One subtree search maps each person's entry to a StaffMember (docs/directory.md): the staff ID,
name and email from attributes, the manager's DN to that manager's staff ID, group DNs in
`memberOf` to roles, the team and service area from an attribute or an OU of the entry's DN. It
is searched again every STAFF_DIRECTORY_REFRESH_SECONDS; lookups never wait on the network.
"""

import logging
import re
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.dn import parse_dn
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.enums import Role
from models.staff import StaffDirectory, StaffMember

log = logging.getLogger("qsaf.directory")

# Active Directory's people, less disabled accounts (userAccountControl bit 2, ACCOUNTDISABLE).
AD_PEOPLE = "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"


class LdapSettings(BaseSettings):
    """STAFF_LDAP_*: where the directory is and how its entries map to staff. The defaults are
    Active Directory's attribute names."""

    model_config = SettingsConfigDict(env_prefix="STAFF_LDAP_", env_file=None, extra="ignore")

    url: str = ""  # ldaps://dc1.council.example (or ldap:// with START_TLS=true)
    start_tls: bool = False
    ca_file: Path | None = None  # the CA that signed the server's certificate; the system's if unset
    bind_dn: str = ""  # a read-only service account; empty: an anonymous bind
    bind_password: SecretStr = SecretStr("")
    bind_password_file: Path | None = None  # read at each search, so a rotated password needs no restart
    base_dn: str = ""
    filter: str = AD_PEOPLE
    timeout_seconds: int = Field(default=10, ge=1)  # to connect, and for each answer (whole seconds: ldap3)
    page_size: int = Field(default=500, ge=1, le=1000)  # AD answers at most 1000 entries a page
    id_attribute: str = "sAMAccountName"
    name_attribute: str = "displayName"
    email_attribute: str = "mail"
    manager_attribute: str = "manager"  # a DN
    groups_attribute: str = "memberOf"  # DNs
    # An attribute's name, or `ou:N`: the Nth OU of the entry's own DN, 1 its nearest, -1 the
    # one nearest the domain (CN=Sam,OU=Team 1,OU=Safeguarding,DC=...: ou:1 Team 1, ou:-1 Safeguarding).
    team_attribute: str = "department"
    service_area_attribute: str = "division"
    # JSON: {"CN=QSAF Auditors,OU=Groups,DC=council,DC=example": "auditor", "CN=...": ["piat", "auditor"]}
    group_roles: dict[str, str | list[str]] = {}
    # JSON: the directory's service names to the service's codes, {"Safeguarding": "safeguarding"};
    # case does not matter, and a name not listed is taken as it is.
    service_areas: dict[str, str] = {}

    @field_validator("group_roles")
    @classmethod
    def _known_roles(cls, value: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        known = {r.value for r in Role}
        for group, roles in value.items():
            if unknown := set([roles] if isinstance(roles, str) else roles) - known:
                raise ValueError(
                    f"STAFF_LDAP_GROUP_ROLES maps {group!r} to {sorted(unknown)}, "
                    f"which are not roles; the roles are {sorted(known)}"
                )
        return value

    @field_validator("team_attribute", "service_area_attribute")
    @classmethod
    def _ou_counted(cls, value: str) -> str:
        if value.startswith("ou:") and not re.fullmatch(r"-?[1-9][0-9]*", value[3:]):
            raise ValueError(
                f"{value!r}: an OU of the DN is ou:1 (the entry's nearest), ou:2, ... or ou:-1 (the top one), ou:-2, ..."
            )
        return value

    def password(self) -> str:
        if self.bind_password_file is not None:
            return self.bind_password_file.read_text().strip()
        return self.bind_password.get_secret_value()


class LdapDirectory(StaffDirectory):
    """A StaffDirectory searched again once `every_seconds` have passed: the first lookup after
    that starts the search on a thread of its own and answers from the directory in force, so
    no lookup waits on the network (an API request, an activity). A search that fails, or finds
    nobody, keeps the last good directory (logged: counts and error types only, never a person)
    and is tried again `every_seconds` later. No thread waits on a timer: a timed wait sleeps
    for ever under libfaketime, which the suite runs under."""

    def __init__(self, settings: LdapSettings, every_seconds: float):
        for name, value in (("STAFF_LDAP_URL", settings.url), ("STAFF_LDAP_BASE_DN", settings.base_dn)):
            if not value:
                raise ValueError(f"STAFF_DIRECTORY=ldap needs {name}")
        self._settings, self._every = settings, every_seconds
        if settings.url.startswith("ldap://") and not settings.start_tls and settings.bind_dn:
            log.warning(
                "staff directory: the bind password goes to %s unencrypted (use ldaps:// or STAFF_LDAP_START_TLS)", settings.url
            )
        try:
            members = read(settings)
        except Exception as error:
            # No directory at all is worse than not starting: every contact would be "not in the directory".
            raise RuntimeError(
                f"the staff directory at {settings.url} could not be read ({type(error).__name__}); the process needs it to start"
            ) from error
        super().__init__(members)
        log.info("staff directory read from LDAP: %d members", len(members))
        self._due, self._searching = time.monotonic() + every_seconds, threading.Lock()

    def _current(self) -> dict[str, StaffMember]:
        if time.monotonic() >= self._due and self._searching.acquire(blocking=False):
            self._due = time.monotonic() + self._every
            threading.Thread(target=self._refresh_and_release, name="staff-directory", daemon=True).start()
        return self._by_id

    def _refresh_and_release(self) -> None:
        try:
            self.refresh()
        finally:
            self._searching.release()

    def refresh(self) -> bool:
        """Search again now; False (and the last good directory kept) if that failed."""
        try:
            members = read(self._settings)
        except Exception as error:  # whatever it was, the next search is tried all the same
            log.error(
                "staff directory not refreshed from LDAP, keeping the last good one (%d members): %s",
                len(self._by_id),
                type(error).__name__,
            )
            return False
        self.replace(members)
        log.info("staff directory refreshed from LDAP: %d members", len(members))
        return True


def read(settings: LdapSettings) -> list[StaffMember]:
    with _connect(settings) as conn:
        entries = [
            e
            for e in conn.extend.standard.paged_search(
                settings.base_dn,
                settings.filter,
                search_scope=ldap3.SUBTREE,
                attributes=_attributes(settings),
                paged_size=settings.page_size,
                generator=True,
            )
            if e.get("type") == "searchResEntry"
        ]  # AD adds continuation references: other partitions
    members = _members(settings, entries)
    if not members:
        # A filter or base DN that matches nobody is a mistake, never a council with no staff.
        raise LookupError("the search found nobody")
    return members


def _connect(settings: LdapSettings) -> ldap3.Connection:
    # ldap3's own TLS default checks no certificate: always ask for it to be checked.
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(settings.ca_file) if settings.ca_file else None)
    server = ldap3.Server(settings.url.rstrip("/"), get_info=ldap3.NONE, tls=tls, connect_timeout=settings.timeout_seconds)
    conn = ldap3.Connection(
        server,
        user=settings.bind_dn or None,
        password=settings.password() or None,
        read_only=True,
        auto_referrals=False,
        raise_exceptions=True,
        receive_timeout=settings.timeout_seconds,
    )
    conn.open()
    if settings.start_tls:
        conn.start_tls()
    conn.bind()
    return conn


def _attributes(settings: LdapSettings) -> list[str]:
    named = [
        settings.id_attribute,
        settings.name_attribute,
        settings.email_attribute,
        settings.manager_attribute,
        settings.groups_attribute,
        settings.team_attribute,
        settings.service_area_attribute,
    ]
    return sorted({a for a in named if not a.startswith("ou:")})


def _members(settings: LdapSettings, entries: list[dict[str, Any]]) -> list[StaffMember]:
    id_of = {_key(e["dn"]): _first(e, settings.id_attribute) for e in entries}
    roles_of = {_key(dn): [roles] if isinstance(roles, str) else roles for dn, roles in settings.group_roles.items()}
    areas = {name.casefold(): code for name, code in settings.service_areas.items()}
    members, skipped = [], 0
    for e in entries:
        staff_id, name, email = (_first(e, a) for a in (settings.id_attribute, settings.name_attribute, settings.email_attribute))
        if not (staff_id and name and email):
            skipped += 1  # a service account, a mailbox without a person, someone half set up
            continue
        roles = sorted({r for group in _values(e, settings.groups_attribute) for r in roles_of.get(_key(group), [])})
        manager = _first(e, settings.manager_attribute)
        area = _field(e, settings.service_area_attribute)
        members.append(
            StaffMember(
                id=staff_id,
                name=name,
                email=email,
                roles=roles,
                team=_field(e, settings.team_attribute),
                service_area=areas.get(area.casefold(), area),
                # A manager outside the search (another OU, a disabled account) ends the line there.
                manager_id=id_of.get(_key(manager)) if manager else None,
            )
        )
    if skipped:
        log.warning("staff directory: %d LDAP entries skipped, missing a staff ID, name or email", skipped)
    return members


def _field(entry: dict[str, Any], source: str) -> str:
    """An attribute's first value, or `ou:N` of the entry's DN; "" if there is none."""
    if not source.startswith("ou:"):
        return _first(entry, source) or ""
    ous = [value for kind, value in _rdns(entry["dn"]) if kind == "ou"]
    n = int(source[3:])
    index = n - 1 if n > 0 else n
    return ous[index] if -len(ous) <= index < len(ous) else ""


def _values(entry: dict[str, Any], attribute: str) -> list[str]:
    value = entry.get("attributes", {}).get(attribute)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _first(entry: dict[str, Any], attribute: str) -> str | None:
    values = _values(entry, attribute)
    return values[0].strip() if values and values[0].strip() else None


def _key(dn: str) -> str:
    """A DN as compared: the spelling of one DN varies (CN= or cn=, spaces after commas, escapes)."""
    try:
        return ",".join(f"{kind}={value.casefold()}" for kind, value in _rdns(dn))
    except LDAPException:
        return dn.casefold()


def _rdns(dn: str) -> list[tuple[str, str]]:
    """(attribute type in lower case, value unescaped) of each part of a DN, the entry's own first."""
    return [(kind.casefold(), _unescape(value)) for kind, value, _ in parse_dn(dn, strip=True)]


def _unescape(value: str) -> str:
    r"""RFC 4514: `\,` is a comma and `\C3\A9` the bytes of é."""
    out, i = bytearray(), 0
    while i < len(value):
        if value[i] == "\\" and _HEX.fullmatch(value[i + 1 : i + 3]):
            out += bytes.fromhex(value[i + 1 : i + 3])
            i += 3
        else:
            skip = value[i] == "\\" and i + 1 < len(value)
            out += value[i + skip].encode()
            i += 1 + skip
    return out.decode("utf-8", "replace")


_HEX = re.compile(r"[0-9A-Fa-f]{2}")
