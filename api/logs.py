"""How the API and the worker write their logs: readable text (`make dev`) or one JSON object a
line (LOG_FORMAT=json, production's), and, while the API handles a request, that request's ID on
every line (`REQUEST_ID`, which api/metrics.py's middleware sets). Lines carry what the code
logs and nothing more: a request's own line names its route template, never its path or body."""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Literal

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
TEXT = "%(asctime)s %(name)s %(levelname)s [%(request_id)s] %(message)s"
# A LogRecord's own attributes, and uvicorn's coloured copy of its message: anything else on a
# record came as `extra=` (api/metrics.py's request line).
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id", "color_message"}


class RequestIdFilter(logging.Filter):
    """Puts the current request's ID on each record (`-` outside a request). On the handler, not a
    logger, so it sees every record that reaches the handler, whichever logger it came from."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", "-") != "-":
            line["request_id"] = record.request_id
        line |= {k: v for k, v in vars(record).items() if k not in _STANDARD and isinstance(v, str | int | float | bool)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def log_handler(log_format: Literal["text", "json"], stream: IO[str] | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT))
    handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(log_format: Literal["text", "json"]) -> None:
    """One handler on the root logger, which uvicorn's server lines reach as well. Uvicorn's own
    access lines go: they print the raw path and query string, and the API logs each request
    itself (api/metrics.py) with its route template."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(log_handler(log_format))
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
