"""Reads answer from the rows the workflows save, not from the workflows: with no worker running
(stopped, restarting, or not yet up), every GET of a process and every staff page showing one
answers at once with the view saved last; only actions wait on the worker."""

import asyncio

import httpx

from api.deps import Services
from api.main import create_app
from tests.helpers.api import Api
from tests.helpers.dates import YEAR, at, cycle, cycle_opens, first_working_day
from tests.helpers import audit_to_report, skip_to
from tests.helpers.disputes import raise_dispute
from tests.helpers.safety import raise_concern
from tests.helpers.self_selection import ask
from tests.helpers.web import pages
from worker import run_worker

START = at(first_working_day(YEAR, 1))
FAR_BELOW_THE_API_WAIT = 3  # seconds; a read that waited on the workflow would take the API's 10 s and a 504
MAY, FEBRUARY = cycle(5), cycle(2)  # a themed cycle (its theme starts its workflow) and a moderation month


async def test_every_read_answers_its_saved_view_while_no_worker_runs(env, settings, directory, engine):
    app = create_app(
        Services(settings=settings, client=env.client, engine=engine, directory=directory, clock=env.get_current_time)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        api = Api(http)
        await skip_to(env, START)
        async with run_worker(env.client, settings):
            audit_id = await audit_to_report(api, env, "requires_improvement")
            await raise_dispute(api, audit_id)
            concern = await raise_concern(api, audit_id)
            request = await ask(api)
            theme = await api.as_("piat1").put(f"/cycles/{MAY}/theme", json={"theme": "Neglect"})
            assert theme.status_code == 200, theme.text
            await skip_to(env, cycle_opens(2))  # a panel is convened from its month's opening
            panel = await api.as_("piat1").post(f"/moderation-panels/{FEBRUARY}", json={})
            assert panel.status_code == 201, panel.text
            reads = [
                f"/audits/{audit_id}",
                f"/audits/{audit_id}/notifications",
                f"/disputes/{audit_id}",
                f"/safety-concerns/{concern['concern_id']}",
                f"/self-selection-requests/{request['request_id']}",
                f"/cycles/{MAY}",
                f"/moderation-panels/{FEBRUARY}",
            ]
            while_running = {path: await _read(api, path) for path in reads}

        # The worker is gone: each read answers at once, with what it answered while it ran.
        for path, seen in while_running.items():
            assert await asyncio.wait_for(_read(api, path), FAR_BELOW_THE_API_WAIT) == seen, path
        assert while_running[f"/audits/{audit_id}"]["stage"] == "in_dispute"
        assert while_running[f"/cycles/{MAY}"]["theme"] == "Neglect"

        staff_pages = {
            f"/app/audits/{audit_id}": "in dispute",
            f"/app/disputes/{audit_id}": "meeting",
            f"/app/safety-concerns/{concern['concern_id']}": "no strategy discussion",
            f"/app/self-selection-requests/{request['request_id']}": "c-300",
            f"/app/cycles/{MAY}": "neglect",
            f"/app/moderation-panels/{FEBRUARY}": "moderation panel",
        }
        for page, shown in staff_pages.items():
            r = await asyncio.wait_for(pages(api, "piat1").get(page), FAR_BELOW_THE_API_WAIT)
            assert r.status_code == 200 and shown in r.text.lower(), (page, r.text)


async def _read(api, path: str) -> dict | list:
    r = await api.as_("piat1").get(path)
    assert r.status_code == 200, (path, r.text)
    return r.json()
