"""Exception classes of the runyard core: each subclasses the builtin a user would catch."""

from __future__ import annotations


class RunyardError(Exception):
    """Base class of every error runyard raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # KeyError would otherwise print the message in quotes
        return self.message


class InvalidInput(RunyardError, ValueError):
    """A key, value, path or argument was rejected; nothing was written."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class ParamImmutable(InvalidInput):
    """A param was logged again with a different value (params are write-once)."""


class UnsafeArtifactPath(InvalidInput):
    """An artifact path would land outside its run's artifact directory."""


class InvalidQuery(RunyardError, ValueError):
    """A search filter or order_by could not be parsed; the message shows where, with a caret."""

    def __init__(self, message: str, query: str = "", position: int | None = None) -> None:
        super().__init__(message)
        self.query = query
        self.position = position


class RunNotFound(RunyardError, KeyError):
    """No run has that id."""


class ExperimentNotFound(RunyardError, KeyError):
    """No experiment has that id or name."""


class LoggedModelNotFound(RunyardError, KeyError):
    """No logged model has that id."""


class ExperimentExists(InvalidInput):
    """An experiment with that name already exists (maybe in the trash)."""


class InvalidState(RunyardError, ValueError):
    """The operation does not apply in the object's current state (e.g. restoring an active run)."""


class StoreError(RunyardError):
    """The store cannot be opened or used (unreachable server, bad URI, missing file)."""


class SchemaVersionError(StoreError):
    """The store's schema is newer (refused) or older (needs `runyard db upgrade`) than this runyard."""


class MissingExtra(RunyardError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""
