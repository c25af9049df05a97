"""How the API and the worker write their logs: readable text (`make dev`) or one JSON object a
line (LOG_FORMAT=json, production's), and, while the API handles a request, that request's ID on
every line (`REQUEST_ID`, which api/metrics.py's middleware sets). Lines carry what the code
logs and nothing more: a request's own line names its route template, never its path or body."""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
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


class LibraryFailureFilter(logging.Filter):
    """The Temporal SDK logs an activity's or a workflow task's failure with its traceback, and
    SQLAlchemy logs its own errors; their messages can quote what was being done (a database
    refusing a row quotes the row: an email's body, a concern's words). Their records keep the
    exception's type and where it was raised, enough to find the bug, and lose its text and any
    argument that is not a plain value. On the handler, as `RequestIdFilter`."""

    LIBRARIES = ("temporalio", "sqlalchemy")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.partition(".")[0] not in self.LIBRARIES:
            return True
        if isinstance(record.args, tuple):
            record.args = tuple(_plain(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _plain(value) for key, value in record.args.items()}
        if record.exc_info and record.exc_info[1] is not None:
            record.msg, record.args = f"{record.getMessage()}: {_where(record.exc_info[1])}", ()
        record.exc_info, record.exc_text = None, None
        return True


def _plain(value: object) -> object:
    if isinstance(value, BaseException):
        return type(value).__name__
    return value if isinstance(value, str | int | float | bool | None) else "[hidden]"


def _where(error: BaseException) -> str:
    """`InternalError (from RaiseException) at activities.notify:110`: the exception's type, those
    it was raised from, and the module and line of the project's own frame nearest to where it
    was raised (the innermost frame if none is the project's)."""
    types, cause = [type(error).__name__], error.__cause__ or error.__context__
    while cause is not None and len(types) < 4:
        types.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    frames, ours, tb = [], [], error.__traceback__
    while tb is not None:
        frame = (tb.tb_frame.f_globals.get("__name__", "?"), tb.tb_lineno)
        frames.append(frame)
        if _is_ours(tb.tb_frame.f_code.co_filename):
            ours.append(frame)
        tb = tb.tb_next
    module, line = (ours or frames or [("?", 0)])[-1]
    chain = f" (from {', '.join(types[1:])})" if len(types) > 1 else ""
    return f"{types[0]}{chain} at {module}:{line}"


def _is_ours(filename: str) -> bool:
    return filename.startswith(_ROOT) and "site-packages" not in filename


_ROOT = str(Path(__file__).resolve().parent.parent)


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
    handler.addFilter(LibraryFailureFilter())
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
