"""The staff directory: who people are, their roles and their lines of management."""

import csv
import logging
import os
import threading
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from models.enums import Role

if TYPE_CHECKING:
    from models.settings import Settings


class StaffMember(BaseModel):
    id: str
    name: str
    email: str
    roles: list[str]
    team: str
    service_area: str
    manager_id: str | None = None

    def has(self, role: Role) -> bool:
        return role.value in self.roles


log = logging.getLogger("qsaf.directory")


class StaffDirectory:
    """Lookups by ID and along the line of management. Loaded from a TOML file or a CSV export
    and read again whenever the file changes: people join, move and leave while audits run for
    months, and the worker and API see the change without a restart. A file that no longer
    parses is ignored (logged) and the last good directory stays in force. (LDAP:
    models/staff_ldap.py, which replaces the members on an interval instead.)"""

    def __init__(self, members: list[StaffMember], path: Path | None = None):
        self._by_id = _index(members)
        self._path, self._stamp, self._lock = path, _stamp(path), threading.Lock()

    @classmethod
    def load(cls, path: Path) -> "StaffDirectory":
        return cls(_read(path), path)

    def replace(self, members: list[StaffMember]) -> None:
        """Put a whole new directory in force at once: a lookup sees the old one or the new one."""
        self._by_id = _index(members)

    def _current(self) -> dict[str, StaffMember]:
        path = self._path
        if path is None:  # given its members (LDAP, tests): there is no file to read again
            return self._by_id
        stamp = _stamp(path)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._reload(path, stamp)
        return self._by_id

    def _reload(self, path: Path, stamp: tuple[int, int] | None) -> None:
        self._stamp = stamp
        try:
            self._by_id = _index(_read(path))
            log.info("staff directory reloaded: %d members", len(self._by_id))
        except (OSError, ValueError, csv.Error, tomllib.TOMLDecodeError) as error:
            log.error("staff directory %s not reloaded, keeping the last good one: %s", path, error)

    def __contains__(self, staff_id: str) -> bool:
        return staff_id in self._current()

    def get(self, staff_id: str) -> StaffMember | None:
        return self._current().get(staff_id)

    def everyone(self) -> list[StaffMember]:
        """Everyone in the directory now."""
        return list(self._current().values())

    def with_role(self, role: Role) -> list[StaffMember]:
        return [m for m in self._current().values() if m.has(role)]

    def manager_with_role(self, staff_id: str, role: Role) -> StaffMember | None:
        """The nearest manager above `staff_id` holding `role` (e.g. the Head of Service)."""
        seen: set[str] = set()
        member = self.get(staff_id)
        while member and member.manager_id and member.manager_id not in seen:
            seen.add(member.manager_id)
            member = self.get(member.manager_id)
            if member and member.has(role):
                return member
        return None

    def team_manager_of(self, staff_id: str) -> StaffMember | None:
        return self.manager_with_role(staff_id, Role.TEAM_MANAGER)

    def head_of_service_of(self, staff_id: str) -> StaffMember | None:
        return self.manager_with_role(staff_id, Role.HEAD_OF_SERVICE)


def directory_for(settings: "Settings") -> StaffDirectory:
    """STAFF_DIRECTORY: `ldap` (STAFF_LDAP_*, docs/directory.md), or a `.csv` or `.toml` file's path."""
    if settings.staff_directory == "ldap":
        from models.staff_ldap import LdapDirectory  # here: it builds on this module

        return LdapDirectory(settings.staff_ldap, settings.staff_directory_refresh_seconds)
    return StaffDirectory.load(settings.staff_directory)


def _read(path: Path) -> list[StaffMember]:
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    return [StaffMember(**row) for row in raw.get("staff", [])]


ROLES = {r.value for r in Role}
CSV_COLUMNS = ("id", "name", "email", "roles", "team", "service_area", "manager_id")


def _read_csv(path: Path) -> list[StaffMember]:
    """An HR export: a header row naming CSV_COLUMNS (in any order, others ignored), then one row
    a person; `roles` separated by `;`, `manager_id` empty for nobody. Errors name the row and
    column, never what it holds, since they are logged."""
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: Excel's byte order mark
        rows = csv.DictReader(f)
        if missing := [c for c in CSV_COLUMNS if c not in (rows.fieldnames or [])]:
            raise ValueError(f"{path.name} has no column {', '.join(missing)} (its header row needs {', '.join(CSV_COLUMNS)})")
        return [
            _csv_member(row, f"{path.name} line {rows.line_num}")
            for row in rows
            if any(isinstance(v, str) and v.strip() for v in row.values())
        ]  # blank lines left out


def _csv_member(row: dict[str, str | None], where: str) -> StaffMember:
    value = {c: (row.get(c) or "").strip() for c in CSV_COLUMNS}
    if empty := [c for c in ("id", "name", "email") if not value[c]]:
        raise ValueError(f"{where} has no {', '.join(empty)}")
    roles = [r.strip() for r in value["roles"].split(";") if r.strip()]
    if any(r not in ROLES for r in roles):
        raise ValueError(f"{where} has a role that is not one of {', '.join(sorted(ROLES))}")
    return StaffMember(**value | {"roles": roles, "manager_id": value["manager_id"] or None})


def _index(members: list[StaffMember]) -> dict[str, StaffMember]:
    by_id = {m.id: m for m in members}
    if unknown := {m.manager_id for m in members if m.manager_id} - by_id.keys():
        # A manager who has left is still someone's manager in the export until HR catches up:
        # the line of management stops there (no Team Manager found) rather than the file failing.
        log.warning("staff directory names managers who are not in it: %s", sorted(unknown))
    return by_id


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """The file's modification time and size: a cheap test of whether it changed."""
    if path is None:
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size
