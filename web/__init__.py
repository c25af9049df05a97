"""PLACEHOLDER (branch `reports`): the `web` branch brings the real package (pages, cookie
sign-in, router under /app). On merge keep that branch's files; the reports pages need only
`web/render.py`'s `render` and `web/templates/base.html` with blocks `title` and `content`."""
