"""The GOV.UK Design System's files (make assets: package-lock.json's govuk-frontend, built into
web/static/govuk/) are what every page loads: from the app itself, nothing from another origin,
every one there, at the version package.json pins."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from models.settings import ROOT
from tests.helpers.web import pages

GOVUK = ROOT / "web" / "static" / "govuk"
MISSING = "web/static/govuk/ is not built: run `make assets`"
RULE_CODE = re.compile(r"\bR-[A-Z]+-\d")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


class Assets(HTMLParser):
    """What a page loads (stylesheets, icons, scripts, images) and the pages it links to."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img", "source", "iframe") and a.get("src"):
            self.loaded.append(a["src"] or "")
        elif tag == "link" and a.get("href"):
            self.loaded.append(a["href"] or "")
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if a.get("style") and "url(" in (a["style"] or ""):
            self.loaded += re.findall(r"url\(['\"]?([^'\")]+)", a["style"] or "")


def parsed(html: str) -> Assets:
    found = Assets()
    found.feed(html)
    return found


def vendored_version() -> str:
    script = GOVUK / "govuk-frontend.min.js"
    assert script.exists(), MISSING
    found = re.match(r'const version="([^"]+)"', script.read_text())
    assert found, "govuk-frontend.min.js names no version"
    return found[1]


def test_the_vendored_design_system_is_the_version_package_json_pins():
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["govuk-frontend"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "an exact version, not a range"
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]["node_modules/govuk-frontend"]
    assert locked["version"] == pinned and locked["integrity"].startswith("sha512-")
    assert vendored_version() == pinned, f"web/static/govuk/ holds {vendored_version()}, package.json {pinned}: `make assets`"


def test_the_image_builds_the_same_files_and_git_never_holds_them():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM node:20\.\d+\.\d+-slim AS assets$", dockerfile, re.M) and "scripts/vendor_govuk.sh" in dockerfile
    assert "COPY --from=assets /src/web/static/govuk web/static/govuk" in dockerfile
    assert "npm ci --ignore-scripts" in (ROOT / "scripts" / "vendor_govuk.sh").read_text()
    assert "web/static/govuk/" in (ROOT / ".gitignore").read_text().splitlines()


async def test_every_page_loads_only_the_apps_own_files_and_each_is_there(api, audit_id):
    """Each page a PIAT member reaches from My work and the audit page, as served: only the app's own
    files, each there, and in words (no rule code, no ISO date)."""
    vendored_version()
    piat = pages(api, "piat1")
    queue, seen, loaded = ["/app/sign-in", "/app/", f"/app/audits/{audit_id}"], set(), set()
    while queue and len(seen) < 40:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        r = await (pages(api) if url == "/app/sign-in" else piat).get(url)
        if r.status_code != 200 or not r.headers["content-type"].startswith("text/html"):
            continue
        found = parsed(r.text)
        words = " ".join(found.text)  # what staff read: rule codes stay in the docs, dates are in words
        assert not RULE_CODE.search(words) and not ISO_DATE.search(words), (url, RULE_CODE.search(words), ISO_DATE.search(words))
        for asset in found.loaded:
            where = urlsplit(urljoin(f"http://test{url}", asset))
            assert where.netloc == "test" and where.path.startswith("/app/static/"), f"{url} loads {asset}"
            loaded.add(where.path)
        queue += [
            path
            for href in found.links
            if (path := urlsplit(href).path).startswith("/app/") and not re.search(r"\.(csv|ics)$|/sign-out", path)
        ]
    assert {"/app/static/govuk/govuk-frontend.min.css", "/app/static/init.js", "/app/static/site.css"} <= loaded
    assert len(seen) > 5, seen
    # ... and what those load in turn: the module's import, the stylesheet's fonts and images.
    init = (await api.http.get("/app/static/init.js")).text
    loaded |= set(re.findall(r'from "([^"]+)"', init))
    css = (await api.http.get("/app/static/govuk/govuk-frontend.min.css")).text
    fonts_and_images = set(re.findall(r"url\(([^)]+)\)", css))
    assert fonts_and_images and all(u.startswith("/app/static/govuk/assets/") for u in fonts_and_images), fonts_and_images
    for path in sorted(loaded | fonts_and_images):
        r = await api.http.get(path)
        assert r.status_code == 200, f"{path}: {r.status_code}"
    script = await api.http.get("/app/static/govuk/govuk-frontend.min.js")
    assert script.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")  # a module, nosniff
