"""README.md and docs/*.md: every relative link reaches a file, and no page reads like a work diary."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def links(page: Path) -> list[str]:
    return LINK.findall(CODE.sub("", page.read_text()))


def relative(target: str) -> bool:
    return not re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) and not target.startswith("//")


def test_there_are_pages_and_links():
    assert len(PAGES) > 10
    assert sum(len(links(page)) for page in PAGES) > 20


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file(page):
    broken = []
    for target in filter(relative, links(page)):
        if "#" in target:
            broken.append(f"{target} (an anchor: link the page, name the section in words)")
        elif not (page.parent / target).resolve().exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: {broken}"


def test_every_docs_page_is_linked_from_the_readme():
    targets = {(ROOT / t).resolve() for t in links(ROOT / "README.md") if relative(t)}
    missing = [p.name for p in PAGES[1:] if p.resolve() not in targets]
    assert not missing, f"README.md's Documentation list lacks {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_names_an_issue_or_a_session(page):
    text = page.read_text()
    found = re.findall(r"\bissues?\s+#?\d+|\bthis session\b", text, re.IGNORECASE)
    assert not found, f"{page.relative_to(ROOT)} reads like a work diary: {found}"
