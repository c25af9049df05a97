"""The app served by uvicorn in a thread, as a browser or a fuzzer reaches it: over a real port,
with its own Temporal client and the test server's skipped clock."""

import asyncio
import threading
import time

import uvicorn

from api.deps import Services
from api.main import create_app
from tests.helpers import free_port


def served_clock(env):
    """The test server's time for an app served in another thread: asked on the test's own loop,
    where `env`'s client lives, so the served API's "now" is the skipped clock's."""
    loop = asyncio.get_running_loop()

    async def now():
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(env.get_current_time(), loop))

    return now


class Served:
    """The app under uvicorn in a thread: its own event loop, its own Temporal client."""

    def __init__(self, app):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            time.sleep(0.05)
        raise AssertionError("uvicorn did not start")

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


def served_app(env, settings, engine, directory):
    """The app to serve: its own Temporal client on the test server, and the test server's clock."""
    served_settings = settings.model_copy(update={"temporal_address": env.client.service_client.config.target_host})
    return create_app(
        Services(settings=served_settings, client=None, engine=engine, directory=directory, clock=served_clock(env))
    )
