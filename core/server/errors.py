"""One table from core exceptions to MLflow's error codes and HTTP statuses; the JSON error answer.

A user error is always a 4xx: MLflow's client retries 5xx and 429 answers for minutes.
"""

from __future__ import annotations

import logging

from ..access import TokenNotFound, UserExists, UserNotFound
from ..exceptions import (
    ExperimentExists,
    ExperimentNotFound,
    InvalidInput,
    InvalidQuery,
    InvalidState,
    LoggedModelNotFound,
    MissingExtra,
    ParamImmutable,
    RunNotFound,
    RunyardError,
    SchemaVersionError,
    StoreError,
    UnsafeArtifactPath,
)

logger = logging.getLogger("runyard.server")


class MalformedRequest(RunyardError):
    """The request body is not a JSON object."""


class EndpointNotFound(RunyardError):
    """No route answers this method and path."""


class ArtifactNotFound(RunyardError, FileNotFoundError):
    """No artifact file or directory at that path."""


class Unavailable(RunyardError):
    """The store could not take the write in time (a transient condition: the client may retry)."""


# First match wins: subclasses come before their bases.
ERROR_TABLE: tuple[tuple[type[BaseException], str, int], ...] = (
    (RunNotFound, "RESOURCE_DOES_NOT_EXIST", 404),
    (ExperimentNotFound, "RESOURCE_DOES_NOT_EXIST", 404),
    (LoggedModelNotFound, "RESOURCE_DOES_NOT_EXIST", 404),
    (ArtifactNotFound, "RESOURCE_DOES_NOT_EXIST", 404),
    (UserNotFound, "RESOURCE_DOES_NOT_EXIST", 404),
    (TokenNotFound, "RESOURCE_DOES_NOT_EXIST", 404),
    (UserExists, "RESOURCE_ALREADY_EXISTS", 400),
    (EndpointNotFound, "ENDPOINT_NOT_FOUND", 404),
    (ExperimentExists, "RESOURCE_ALREADY_EXISTS", 400),
    (UnsafeArtifactPath, "INVALID_PARAMETER_VALUE", 400),
    (ParamImmutable, "INVALID_PARAMETER_VALUE", 400),
    (InvalidQuery, "INVALID_PARAMETER_VALUE", 400),
    (InvalidInput, "INVALID_PARAMETER_VALUE", 400),
    (InvalidState, "INVALID_PARAMETER_VALUE", 400),
    (MalformedRequest, "MALFORMED_REQUEST", 400),
    (Unavailable, "TEMPORARILY_UNAVAILABLE", 503),
    (SchemaVersionError, "INTERNAL_ERROR", 500),
    (StoreError, "TEMPORARILY_UNAVAILABLE", 503),
    (MissingExtra, "NOT_IMPLEMENTED", 501),
)


def error_code_and_status(error: BaseException) -> tuple[str, int]:
    """MLflow's (error_code, HTTP status) for an exception; INTERNAL_ERROR 500 for an unexpected one."""
    for kind, code, status in ERROR_TABLE:
        if isinstance(error, kind):
            return code, status
    return "INTERNAL_ERROR", 500


def error_payload(error: BaseException) -> tuple[dict[str, str], int]:
    """The JSON body {"error_code", "message"} and the status for an exception (unexpected ones logged)."""
    code, status = error_code_and_status(error)
    if code == "INTERNAL_ERROR":
        logger.error("unexpected error", exc_info=error)
        message = f"Internal server error: {type(error).__name__}: {error} (see the server log)."
    else:
        message = getattr(error, "message", None) or str(error)
    from ..config import mask_uri

    return {"error_code": code, "message": mask_uri(message)}, status
