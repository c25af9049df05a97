"""The staff directory: who people are, their roles and their lines of management."""

import logging
import os
import threading
import tomllib
from pathlib import Path

from pydantic import BaseModel

from models.enums import Role


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
    """Lookups by ID and along the line of management. Loaded from a TOML file and read again
    whenever the file changes: people join, move and leave while audits run for months, and the
    worker and API see the change without a restart. A file that no longer parses is ignored
    (logged) and the last good directory stays in force."""

    def __init__(self, members: list[StaffMember], path: Path | None = None):
        self._by_id = _index(members)
        self._path, self._stamp, self._lock = path, _stamp(path), threading.Lock()

    @classmethod
    def load(cls, path: Path) -> "StaffDirectory":
        return cls(_read(path), path)

    def _current(self) -> dict[str, StaffMember]:
        stamp = _stamp(self._path)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._reload(stamp)
        return self._by_id

    def _reload(self, stamp) -> None:
        self._stamp = stamp
        try:
            self._by_id = _index(_read(self._path))
            log.info("staff directory reloaded: %d members", len(self._by_id))
        except (OSError, ValueError, tomllib.TOMLDecodeError) as error:
            log.error("staff directory %s not reloaded, keeping the last good one: %s", self._path, error)

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


def _read(path: Path) -> list[StaffMember]:
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    return [StaffMember(**row) for row in raw.get("staff", [])]


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
