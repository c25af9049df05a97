"""The staff directory: who people are, their roles and their lines of management."""

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


class StaffDirectory:
    """Loaded once from a TOML file; lookups by ID and along the line of management."""

    def __init__(self, members: list[StaffMember]):
        self._by_id = {m.id: m for m in members}
        unknown = {m.manager_id for m in members if m.manager_id} - self._by_id.keys()
        if unknown:
            raise ValueError(f"staff directory names unknown managers: {sorted(unknown)}")

    @classmethod
    def load(cls, path: Path) -> "StaffDirectory":
        with open(path, "rb") as f:
            raw = tomllib.load(f)
        return cls([StaffMember(**row) for row in raw.get("staff", [])])

    def __contains__(self, staff_id: str) -> bool:
        return staff_id in self._by_id

    def get(self, staff_id: str) -> StaffMember | None:
        return self._by_id.get(staff_id)

    def with_role(self, role: Role) -> list[StaffMember]:
        return [m for m in self._by_id.values() if m.has(role)]

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
