"""The one way this service talks to Temporal: the client both the worker and the API use, and
the data converter every payload passes through.

Payloads are encrypted (AES-256-GCM) before they leave the process: Temporal's store, its Web UI
and anyone reading a history see ciphertext, not case references, rationales or concerns. Each
payload names the key that sealed it (`encryption-key-id`), so keys rotate: the newest seals,
every key still listed opens. Failures are encoded too (their messages become payloads). Without
a key file payloads stay plain, and the worker and the API say so at start-up.
"""

import dataclasses
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec
from temporalio.envconfig import ClientConfigProfile, ClientConnectConfig
from temporalio.runtime import Runtime

from models import search_attributes
from models.settings import Settings

log = logging.getLogger("qsaf.temporal")
ENCRYPTED = b"binary/encrypted"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes], current: str):
        if current not in keys:
            raise ValueError(f"the current payload key {current!r} is not among the keys")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current

    @classmethod
    def from_file(cls, path: Path) -> "EncryptionCodec":
        """`{"current": "2026-11", "keys": {"2026-11": "<base64 of 32 bytes>", "2026-05": "..."}}`"""
        import base64

        spec = json.loads(path.read_text())
        return cls({k: base64.b64decode(v) for k, v in spec["keys"].items()}, spec["current"])

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._open(p) if p.metadata.get("encoding") == ENCRYPTED else p for p in payloads]

    def _seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        data = nonce + self._ciphers[self._current].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(metadata={"encoding": ENCRYPTED, "encryption-key-id": self._current.encode()}, data=data)

    def _open(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get("encryption-key-id", b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise ValueError(f"payload sealed with key {key_id!r}, which is no longer configured")
        return Payload.FromString(cipher.decrypt(payload.data[:12], payload.data[12:], None))


def new_key_file(path: Path, key_id: str) -> None:
    """A fresh key file (what `make dev` makes in .data/ on first start)."""
    import base64

    path.write_text(json.dumps({"current": key_id, "keys": {key_id: base64.b64encode(AESGCM.generate_key(256)).decode()}}))
    path.chmod(0o600)


MIN_ID_KEY_CHARS = 32


def new_id_key_file(path: Path) -> None:
    """A fresh workflow-ID key (what `make dev` makes in .data/ on first start), readable by its owner only."""
    import secrets

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32) + "\n")


def workflow_id_key(settings: Settings) -> bytes | None:
    """The key audit IDs are made with: WORKFLOW_ID_KEY_FILE's text, else WORKFLOW_ID_KEY; None without either."""
    if settings.workflow_id_key_file:
        try:
            text = settings.workflow_id_key_file.read_text().strip()
        except OSError as error:
            raise RuntimeError(f"WORKFLOW_ID_KEY_FILE {settings.workflow_id_key_file} cannot be read: {error.strerror}") from None
    elif settings.workflow_id_key:
        text = settings.workflow_id_key.get_secret_value().strip()
    else:
        return None
    if len(text) < MIN_ID_KEY_CHARS:
        raise RuntimeError(
            f"the workflow-ID key must be at least {MIN_ID_KEY_CHARS} characters; make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return text.encode()


def codec_for(settings: Settings) -> EncryptionCodec | None:
    return EncryptionCodec.from_file(settings.payload_keys_file) if settings.payload_keys_file else None


def data_converter(codec: EncryptionCodec | None) -> DataConverter:
    if codec is None:
        log.warning("PAYLOAD_KEYS_FILE is not set: workflow payloads are stored in clear")
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter, payload_codec=codec, failure_converter_class=DefaultFailureConverterWithEncodedAttributes
    )


def connect_config(settings: Settings, environ: Mapping[str, str] | None = None) -> ClientConnectConfig:
    """How to reach Temporal: the SDK's standard client configuration (`temporalio.envconfig`: a
    profile from TEMPORAL_CONFIG_FILE or the user's temporal.toml, then the TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE, TEMPORAL_TLS_*, TEMPORAL_API_KEY and TEMPORAL_GRPC_META_* variables), so
    mTLS and API keys need nothing of ours. The address and namespace given to `Settings` itself
    win over a profile's; a profile's win over the settings' defaults. A profile file is read only
    when TEMPORAL_CONFIG_FILE or TEMPORAL_PROFILE asks for one, so a developer's own temporal.toml
    (a Cloud profile, say) never steers `make dev` or the tests. An empty variable counts as unset:
    compose writes `${VAR:-}` as one, and the SDK takes an empty TEMPORAL_API_KEY or TEMPORAL_TLS
    as "turn TLS on"."""
    given = {k: v for k, v in (os.environ if environ is None else environ).items() if v != ""}
    wants_file = "TEMPORAL_CONFIG_FILE" in given or "TEMPORAL_PROFILE" in given
    profile = ClientConfigProfile.load(disable_file=not wants_file, override_env_vars=given)
    config = profile.to_client_connect_config()
    if "temporal_address" in settings.model_fields_set or "target_host" not in config:
        config["target_host"] = settings.temporal_address
    if "temporal_namespace" in settings.model_fields_set or "namespace" not in config:
        config["namespace"] = settings.temporal_namespace
    return config


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """`runtime`: the SDK's default unless given (the worker's serves its metrics)."""
    return await Client.connect(**connect_config(settings), data_converter=data_converter(codec_for(settings)), runtime=runtime)


# ---- the dev server ---------------------------------------------------------------------------

CLI_TYPES = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "BOOL": "Bool", "INT": "Int",
             "DOUBLE": "Double", "TEXT": "Text", "KEYWORD_LIST": "KeywordList"}  # fmt: skip


def dev_server_flags() -> list[str]:
    """What every `temporal server start-dev` of ours starts with (`make dev`, the bench, the fault
    suite). The project's search attributes, registered so that the first workflow can carry
    them. And its SQLite file in WAL mode, synced at checkpoints rather than at every commit:
    the dev server writes through one connection, and with the CLI's defaults (a rollback journal
    synced on every commit) that one connection was what held a month's allocation back
    (`python -m bench.bulk_where`). A process killed mid-write loses nothing committed this way;
    only a power cut could lose the last commits, which a development server can bear."""
    attributes = [f"--search-attribute={k.name}={CLI_TYPES[k.indexed_value_type.name]}" for k in search_attributes.ALL]
    return [*attributes, "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
