"""PLACEHOLDER (branch `reports`): one Jinja2 environment over web/templates, autoescaping HTML.
The `web` branch brings its own; on merge keep one of the two and point the reports pages at it."""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                          trim_blocks=True, lstrip_blocks=True)


def render(template: str, **context) -> str:
    return environment.get_template(template).render(**context)
