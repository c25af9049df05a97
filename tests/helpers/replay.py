"""Replaying a workflow's history against today's workflow code."""

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from temporal_client import codec_for, data_converter
from worker import WORKFLOWS


def replayer(settings=None) -> Replayer:
    """The recorded histories' payloads are plain; the live ones are encrypted with the test's key."""
    return Replayer(
        workflows=WORKFLOWS, data_converter=data_converter(codec_for(settings)) if settings else pydantic_data_converter
    )
