"""Audit tools (R-AUD-6): domains and key lines of enquiry per service area, loaded from data."""

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel

from models.enums import ServiceArea
from models.settings import ROOT

TOOLS_FILE = ROOT / "data" / "audit_tools.toml"


class Domain(BaseModel):
    name: str
    key_lines_of_enquiry: list[str]


class AuditTool(BaseModel):
    name: str
    service_area: ServiceArea
    domains: list[Domain]


@lru_cache
def load_tools(path: Path = TOOLS_FILE) -> dict[ServiceArea, AuditTool]:
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    return {
        ServiceArea(area): AuditTool(name=tool, service_area=area, domains=raw["tools"][tool]["domains"])
        for area, tool in raw["service_areas"].items()
    }


def tool_for(area: ServiceArea) -> AuditTool:
    return load_tools()[area]
