"""Fixtures of the fault suite. `smtp` and `api` replace tests/conftest.py's: the SMTP server here
can be stopped and started again, and the API retries; no worker runs in the test's process."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from tests.helpers.email_checks import assert_plain
from tests.faults.harness import RetryingApi, SmtpServer, WorkerProcesses, worker_environment


@pytest.fixture
def settings(settings):
    """A killed worker's workflow task comes back after its timeout, which the time-skipping server
    waits out in real time: 2 s here instead of Temporal's 10 (WORKFLOW_TASK_TIMEOUT_SECONDS)."""
    return settings.model_copy(update={"workflow_task_timeout_seconds": 2})


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert_plain(server.messages)  # as tests/conftest.py's: names, no rule codes


@pytest.fixture
def workers(env, settings, tmp_path) -> Iterator[WorkerProcesses]:
    """`python worker.py` processes against the time-skipping server; none outlives the test."""
    address = env.client.service_client.config.target_host
    processes = WorkerProcesses(worker_environment(settings, address), tmp_path)
    try:
        yield processes
    finally:
        processes.close()


@pytest_asyncio.fixture
async def api(env, settings, directory, engine) -> AsyncIterator[RetryingApi]:
    """The FastAPI app over the test server, called in-process; the workers are elsewhere."""
    from api.deps import Services
    from api.main import create_app

    app = create_app(
        Services(settings=settings, client=env.client, engine=engine, directory=directory, clock=env.get_current_time)
    )
    # An exception the API does not handle answers 500, as under uvicorn, and the client retries.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield RetryingApi(http)
