"""Why a staff action was refused. Workflow update validators raise these; the API maps the
`type` to an HTTP status (see api/errors.py), so the person sees the message as written."""

from temporalio.exceptions import ApplicationError

FORBIDDEN = "Forbidden"  # 403: wrong person for this action
OUT_OF_ORDER = "OutOfOrder"  # 409: right action, wrong moment
INVALID = "Invalid"  # 422: the content does not satisfy the framework


def forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, type=FORBIDDEN, non_retryable=True)


def out_of_order(message: str) -> ApplicationError:
    return ApplicationError(message, type=OUT_OF_ORDER, non_retryable=True)


def invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID, non_retryable=True)
