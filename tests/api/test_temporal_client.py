"""How the worker and the API reach Temporal (temporal_client.connect_config): the SDK's standard
client configuration, mTLS and API keys included, built without a server. And the worker's
production check of the search attributes (worker.verify_search_attributes)."""

import inspect
from types import SimpleNamespace

import pytest
from temporalio.client import Client
from temporalio.service import TLSConfig

from models import search_attributes
from models.settings import Settings
from temporal_client import connect_config
from worker import verify_search_attributes

ADDRESS_VARIABLES = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE")


@pytest.fixture
def settings(monkeypatch) -> Settings:
    """The settings' defaults: nothing given for Temporal's address or namespace."""
    for name in ADDRESS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return Settings()


@pytest.fixture
def certificates(tmp_path):
    files = {}
    for name in ("client.pem", "client.key", "ca.pem"):
        (tmp_path / name).write_bytes(f"-- {name} --".encode())
        files[name] = tmp_path / name
    return files


def test_without_any_variable_it_is_the_settings_address_in_plain_text(settings):
    assert connect_config(settings, {}) == {"target_host": "localhost:7233", "namespace": "default"}


def test_the_standard_variables_give_mutual_tls(settings, certificates):
    config = connect_config(
        settings,
        {
            "TEMPORAL_ADDRESS": "temporal.internal:7233",
            "TEMPORAL_NAMESPACE": "qsaf",
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(certificates["client.pem"]),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(certificates["client.key"]),
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certificates["ca.pem"]),
            "TEMPORAL_TLS_SERVER_NAME": "temporal",
        },
    )
    assert config["target_host"] == "temporal.internal:7233" and config["namespace"] == "qsaf"
    tls = config["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == b"-- client.pem --" and tls.client_private_key == b"-- client.key --"
    assert tls.server_root_ca_cert == b"-- ca.pem --" and tls.domain == "temporal"


def test_an_api_key_turns_tls_on(settings):
    config = connect_config(settings, {"TEMPORAL_API_KEY": "k-123"})
    assert config["api_key"] == "k-123" and config["tls"] is True


def test_empty_variables_count_as_unset(settings):
    # As compose writes `${VAR:-}`: the SDK alone would turn TLS on for these, or read "" as a path.
    empty = {"TEMPORAL_API_KEY": "", "TEMPORAL_TLS": "", "TEMPORAL_TLS_CLIENT_CERT_PATH": "", "TEMPORAL_ADDRESS": ""}
    assert connect_config(settings, empty) == {"target_host": "localhost:7233", "namespace": "default"}


def test_a_profile_file_is_read_when_asked_for(settings, certificates, tmp_path):
    profile = tmp_path / "temporal.toml"
    profile.write_text(f"""
[profile.default]
address = "temporal.council.example:7233"
namespace = "qsaf"
[profile.default.tls]
client_cert_path = "{certificates["client.pem"]}"
client_key_path = "{certificates["client.key"]}"
""")
    config = connect_config(settings, {"TEMPORAL_CONFIG_FILE": str(profile)})
    assert config["target_host"] == "temporal.council.example:7233" and config["namespace"] == "qsaf"
    assert config["tls"].client_cert == b"-- client.pem --"
    # A missing file (compose always names one, the folder may not hold it) is no profile at all.
    assert "tls" not in connect_config(settings, {"TEMPORAL_CONFIG_FILE": str(tmp_path / "absent.toml")})


def test_settings_given_explicitly_win_over_a_profile(tmp_path):
    profile = tmp_path / "temporal.toml"
    profile.write_text('[profile.default]\naddress = "elsewhere:7233"\nnamespace = "other"\n')
    settings = Settings(temporal_address="here:7233", temporal_namespace="qsaf")
    config = connect_config(settings, {"TEMPORAL_CONFIG_FILE": str(profile)})
    assert (config["target_host"], config["namespace"]) == ("here:7233", "qsaf")


def test_what_it_builds_is_what_client_connect_takes(settings):
    parameters = inspect.signature(Client.connect).parameters
    config = connect_config(settings, {"TEMPORAL_API_KEY": "k", "TEMPORAL_GRPC_META_X_TEAM": "piat"})
    assert set(config) <= set(parameters), set(config) - set(parameters)


class _Operator:
    def __init__(self, attributes: dict[str, int]):
        self.attributes = attributes

    async def list_search_attributes(self, request):
        return SimpleNamespace(custom_attributes=self.attributes)


def _client(attributes: dict[str, int]) -> SimpleNamespace:
    return SimpleNamespace(operator_service=_Operator(attributes))


ALL_REGISTERED = {k.name: int(k.indexed_value_type) for k in search_attributes.ALL}


async def test_the_worker_starts_when_every_search_attribute_is_registered():
    await verify_search_attributes(_client(ALL_REGISTERED), "qsaf")


async def test_the_worker_refuses_to_start_when_one_is_missing_or_of_another_type():
    attributes = dict(ALL_REGISTERED)
    del attributes["AuditStage"]
    attributes["Overdue"] = int(search_attributes.AUDIT_CYCLE.indexed_value_type)  # a Keyword, not a Bool
    with pytest.raises(RuntimeError, match=r"AuditStage, Overdue.*bootstrap job"):
        await verify_search_attributes(_client(attributes), "qsaf")
