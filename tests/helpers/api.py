"""The API called in-process (httpx over ASGI) as one member of staff or another, with dev tokens."""


class Api:
    """Calls as a given member of staff: `await api.as_("piat1").post(...)`."""

    def __init__(self, http):
        self.http = http

    def as_(self, staff_id: str):
        return Caller(self.http, {"Authorization": f"Bearer dev-{staff_id}"})


class Caller:
    """Calls with one member of staff's headers."""

    def __init__(self, http, headers):
        self.http, self.headers = http, headers

    async def get(self, url, **kw):
        return await self.http.get(url, headers=self.headers, **kw)

    async def post(self, url, json=None, **kw):
        return await self.http.post(url, json=json, headers=self.headers, **kw)

    async def put(self, url, json=None, **kw):
        return await self.http.put(url, json=json, headers=self.headers, **kw)

    async def delete(self, url, json=None, **kw):  # httpx's own delete() takes no body
        return await self.http.request("DELETE", url, json=json, headers=self.headers, **kw)
