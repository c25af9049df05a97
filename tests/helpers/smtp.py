"""The tests' mail server's handler: every message it takes, kept to read."""

from email import message_from_bytes, policy
from email.message import Message


class Inbox:
    """aiosmtpd handler that keeps every message that arrived."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        message["X-Peer"] = f"{session.peer[0]}:{session.peer[1]}"  # one per SMTP connection
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]
