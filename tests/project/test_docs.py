"""`/docs` works on a machine without the internet: every asset the page names is the app's own."""

import re

import pytest


@pytest.mark.parametrize("page, marker", [("/docs", "swagger-ui"), ("/redoc", "redoc")])
async def test_the_api_docs_load_nothing_from_outside(api, page, marker):
    r = await api.http.get(page)
    assert r.status_code == 200 and marker in r.text
    sources = re.findall(r"""(?:src|href|spec-url)=["']([^"']+)["']""", r.text) + re.findall(r"url: '([^']+)'", r.text)
    assert len(sources) >= 2 and all(s.startswith("/") for s in sources), sources  # nothing from a CDN
    for source in sources:
        asset = await api.http.get(source)
        assert asset.status_code == 200, source
