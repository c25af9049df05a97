"""The production deployment (docker-compose.yml, deploy/, Dockerfile, .dockerignore), checked
without a Docker engine: the compose file against the Compose Specification's schema, and the
policy it is meant to keep. None of this starts a container."""

import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pytest
import yaml

from models import search_attributes
from temporal_client import CLI_TYPES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_TEXT = COMPOSE_FILE.read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)  # anchors and `<<` merges resolved, as compose does
SERVICES = COMPOSE["services"]
JOBS = ("temporal-schema", "temporal-bootstrap", "migrate")

# The pre-allocated custom search attribute columns of Temporal's PostgreSQL visibility schema
# (schema/postgresql/v12/visibility/schema.sql: Keyword01..10, Bool01..03, ...).
POSTGRES_VISIBILITY_SLOTS = {"Keyword": 10, "Bool": 3, "Datetime": 3, "Int": 3, "Double": 3, "Text": 3, "KeywordList": 3}
SECRET_NAME = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|API_KEY", re.IGNORECASE)
NOT_SECRETS = {"TEMPORAL_CODEC_PASS_ACCESS_TOKEN"}  # a switch: the UI passes the operator's token on


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment") or {}
    assert isinstance(env, dict), f"{service}: environment as a mapping, so it can be checked"
    return {k: str(v) for k, v in env.items()}


def depends(service: str) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in SERVICES[service].get("depends_on", {}).items()}


def test_the_compose_file_is_valid_against_the_compose_spec_schema():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_image_is_pinned_to_a_version():
    for name, service in SERVICES.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} names no tag"
        assert tag != "latest" and re.fullmatch(r"v?\d+\.\d+(\.\d+)*", tag), f"{name}: {image} is not a version"
    temporal = {SERVICES[s]["image"] for s in ("temporal-schema", "temporal", "temporal-bootstrap")}
    assert len({image.rpartition(":")[2] for image in temporal}) == 1, f"server and admin-tools differ: {temporal}"
    # The app's own image carries the project's version.
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert {SERVICES[s]["image"] for s in ("worker", "api", "migrate")} == {f"qsaf:{version}"}


def test_no_auto_setup_image_or_script_anywhere():
    texts = [COMPOSE_TEXT, *(p.read_text() for p in (ROOT / "deploy").rglob("*") if p.is_file())]
    for text in texts:
        for line in text.splitlines():
            assert "auto-setup" not in line or line.lstrip().startswith("#"), line
    assert not any("auto-setup" in s["image"] for s in SERVICES.values())


def test_long_running_services_have_healthchecks():
    for name in ("postgresql", "temporal", "temporal-ui", "api"):
        check = SERVICES[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
    assert "/livez" in " ".join(SERVICES["api"]["healthcheck"]["test"])
    # No HTTP in these: the image's /livez check would only ever fail.
    for name in ("worker", "migrate"):
        assert SERVICES[name]["healthcheck"] == {"disable": True}


def test_the_jobs_run_in_order_and_once():
    assert depends("temporal-schema") == {"postgresql": "service_healthy"}
    assert depends("temporal")["temporal-schema"] == "service_completed_successfully"
    assert depends("temporal-bootstrap") == {"temporal": "service_healthy"}
    assert depends("migrate") == {"postgresql": "service_healthy"}
    for name in ("worker", "api"):
        assert depends(name) == {
            "migrate": "service_completed_successfully",
            "temporal-bootstrap": "service_completed_successfully",
        }
    for job in JOBS:
        assert SERVICES[job]["restart"] == "no", f"{job} is one-shot: a restart would hide its failure"
    assert SERVICES["migrate"]["command"] == ["alembic", "upgrade", "head"]
    assert "temporal-schema.sh" in " ".join(SERVICES["temporal-schema"]["command"])
    assert "temporal-bootstrap.sh" in " ".join(SERVICES["temporal-bootstrap"]["command"])


def test_every_secret_is_required_and_none_has_a_default():
    for name in SERVICES:
        for key, value in environment(name).items():
            if SECRET_NAME.search(key) and key not in NOT_SECRETS:
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", value), f"{name}: {key} must be ${{VAR:?...}}, is {value!r}"
            if "DATABASE_URL" in key:
                # The migrate job alone connects as the schema's owner (deploy/postgres/10-roles.sql).
                password = "QSAF_OWNER_DB_PASSWORD" if name == "migrate" else "QSAF_DB_PASSWORD"
                assert f"${{{password}:?" in value, f"{name}: {key} carries its password from a required variable"
    # Anywhere in the file, a secret variable is never given a fallback.
    for variable, operator in re.findall(r"\$\{(\w+)(:?[-?+]?)", COMPOSE_TEXT):
        if SECRET_NAME.search(variable):
            assert operator == ":?", f"${{{variable}}} must be required"
    assert environment("worker")["STAFF_DIRECTORY"].startswith("${STAFF_DIRECTORY:?")
    assert environment("api")["AUTH_MODE"] == "oidc"


def test_only_the_api_is_published_and_only_on_this_host():
    published = {name: s["ports"] for name, s in SERVICES.items() if s.get("ports")}
    assert list(published) == ["api"]
    for port in published["api"]:
        assert str(port).startswith("127.0.0.1:"), port
    assert not any(s.get("network_mode") == "host" for s in SERVICES.values())
    for name in ("postgresql", "temporal", "temporal-schema", "temporal-bootstrap", "migrate"):
        assert SERVICES[name]["networks"] == ["backend"], f"{name} needs no route out"
    assert COMPOSE["networks"]["backend"]["internal"] is True


def test_uvicorn_trusts_forwarded_headers_only_from_the_configured_proxy():
    command = SERVICES["api"]["command"]
    assert "--proxy-headers" in command
    assert command[command.index("--forwarded-allow-ips") + 1].startswith("${FORWARDED_ALLOW_IPS:?")


def test_the_worker_gets_longer_to_stop_than_its_longest_activity():
    seconds = [
        int(s)
        for s in re.findall(r"start_to_close_timeout=timedelta\(seconds=(\d+)\)", (ROOT / "workflows" / "process.py").read_text())
    ]
    grace = SERVICES["worker"]["stop_grace_period"]
    assert seconds and grace.endswith("s") and int(grace[:-1]) > max(seconds)


def test_the_worker_only_verifies_search_attributes():
    assert environment("worker")["WORKER_SEARCH_ATTRIBUTES"] == "verify"


def test_the_server_has_fixed_shards_and_a_production_dynamic_config():
    env = environment("temporal")
    assert env["DB"] == "postgres12" and int(env["NUM_HISTORY_SHARDS"]) >= 1
    config = yaml.safe_load((ROOT / "deploy" / "dynamicconfig" / "production.yaml").read_text())
    assert env["DYNAMIC_CONFIG_FILE_PATH"].endswith("/production.yaml")
    assert config["system.forceSearchAttributesCacheRefreshOnRead"] == [{"value": False}]
    assert "fixed" in (ROOT / "docs" / "production.md").read_text().lower()


def test_the_web_ui_signs_in_decodes_through_the_api_and_writes_nothing_by_default():
    env = environment("temporal-ui")
    assert env["TEMPORAL_AUTH_ENABLED"] == "true"
    for key in (
        "TEMPORAL_AUTH_PROVIDER_URL",
        "TEMPORAL_AUTH_CLIENT_ID",
        "TEMPORAL_AUTH_CLIENT_SECRET",
        "TEMPORAL_AUTH_CALLBACK_URL",
    ):
        assert ":?" in env[key], key
    assert env["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec") and env["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    assert env["TEMPORAL_DISABLE_WRITE_ACTIONS"] in ("true", "${TEMPORAL_UI_DISABLE_WRITE_ACTIONS:-true}")


def test_the_deploy_scripts_parse():
    for script in (ROOT / "deploy").glob("*.sh"):
        result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script.name}: {result.stderr}"


def test_the_dockerfile_is_multi_stage_non_root_and_checks_livez():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert len(stages) >= 2 and all(re.search(r":\d+\.\d+\.\d+", s) for s in stages), stages
    assert re.search(r"^USER \d+(:\d+)?$", dockerfile, re.MULTILINE), "a numeric user"
    assert re.search(r"^HEALTHCHECK .*\n?.*/livez", dockerfile, re.MULTILINE)
    # Dev tools stay out by the lock it installs (tests/project/test_image.py checks what the lock holds).
    assert "--require-hashes" in dockerfile and "requirements/runtime.lock" in dockerfile
    runtime = dockerfile[dockerfile.rindex("FROM ") :]
    assert "scripts" not in re.findall(r"^COPY (\S+)", runtime, re.MULTILINE)


@pytest.mark.parametrize("pattern", [".env", ".env.*", "config/", "**/*.pem", "**/*.key", "keys/", "**/payload-keys*.json"])
def test_the_build_context_leaves_secrets_out(pattern):
    lines = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert pattern in lines


def test_the_bootstrap_registers_exactly_the_projects_search_attributes():
    listed = [
        line.split()
        for line in (ROOT / "deploy" / "search-attributes.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert listed == [[k.name, CLI_TYPES[k.indexed_value_type.name]] for k in search_attributes.ALL]


def attributes_per_type() -> Counter:
    return Counter(CLI_TYPES[k.indexed_value_type.name] for k in search_attributes.ALL)


def test_the_search_attributes_fit_postgresql_visibility():
    for type_, count in attributes_per_type().items():
        assert count <= POSTGRES_VISIBILITY_SLOTS[type_], f"{count} {type_} attributes, {POSTGRES_VISIBILITY_SLOTS[type_]} slots"


def test_operators_can_add_one_attribute_of_each_type_used():
    full = {t: n for t, n in attributes_per_type().items() if n >= POSTGRES_VISIBILITY_SLOTS[t]}
    assert not full, f"no slot left for an operator's own attribute of: {full}"
