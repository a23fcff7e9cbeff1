"""RestStore's logged-model operations: not served to remote stores yet, each refused clearly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..entities import PagedList
from ..exceptions import InvalidInput
from . import mlflow_compat as compat

if TYPE_CHECKING:
    from ..entities import LoggedModel, LoggedModelMetric, LoggedModelOutput


class NoRemoteLoggedModels:
    """The Store's logged-model operations for RestStore (a mixin): refused until the server has them."""

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Logged models are not served over HTTP yet."""
        raise InvalidInput(compat.NO_LOGGED_MODELS)

    def create_logged_model(self, experiment_id: str, *args: Any, **kwargs: Any) -> LoggedModel:
        """Logged models are not served over HTTP yet."""
        raise InvalidInput(compat.NO_LOGGED_MODELS)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """Logged models are not served over HTTP yet."""
        raise InvalidInput(compat.NO_LOGGED_MODELS)

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        """Logged models are not served over HTTP yet."""
        raise InvalidInput(compat.NO_LOGGED_MODELS)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, object]) -> None:
        """Logged models are not served over HTTP yet."""
        raise InvalidInput(compat.NO_LOGGED_MODELS)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Logged models are not served over HTTP yet."""
        raise InvalidInput(compat.NO_LOGGED_MODELS)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, object]) -> None:
        """Logged models are not served over HTTP yet."""
        raise InvalidInput(compat.NO_LOGGED_MODELS)

    def log_logged_model_metrics(self, model_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        """Logged models are not served over HTTP yet."""
        raise InvalidInput(compat.NO_LOGGED_MODELS)

    def delete_logged_model(self, model_id: str) -> None:
        """Logged models are not served over HTTP yet."""
        raise InvalidInput(compat.NO_LOGGED_MODELS)

    def search_logged_models(self, experiment_ids: Sequence[str], *args: Any, **kwargs: Any) -> PagedList:
        """No logged models are listed over HTTP yet (an empty page)."""
        return PagedList([], None)
