"""Request parsing and JSON answers shared by the handlers (Starlette requests in, responses out)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..rest.protocol import dumps, query_body
from .errors import MalformedRequest, error_payload

MAX_JSON_BODY = 64 * 1024 * 1024  # far above MLflow's 1 MB log-batch limit; a guard, not a rule


class JsonResponse(Response):
    """A JSON answer encoded as MLflow's clients read it (compact, NaN as strings)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Encode the payload (already made of plain JSON types)."""
        return dumps(content)


async def request_fields(request: Request, repeated: Iterable[str] = ()) -> dict[str, Any]:
    """The request's fields: the query string (GET, DELETE) merged under a JSON object body, if any.

    An empty body is `{}`; a body that is a JSON string holding an object is decoded again, as
    MLflow's server does for older clients; anything else that is not a JSON object is refused.
    """
    fields = query_body(request.query_params.multi_items(), repeated)
    raw = await request.body()
    if len(raw) > MAX_JSON_BODY:
        raise MalformedRequest(f"The request body is {len(raw)} bytes: at most {MAX_JSON_BODY} are accepted.")
    if raw.strip():
        try:
            body = json.loads(raw)
            if isinstance(body, str):
                body = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise MalformedRequest(
                f"The request body is not valid JSON ({error}): send a JSON object such as "
                '{"run_id": "..."}.'
            ) from None
        if not isinstance(body, dict):
            raise MalformedRequest(
                f"The request body must be a JSON object, got {type(body).__name__}: send fields as "
                '{"name": value}.'
            )
        fields.update(body)
    return fields


def error_response(error: BaseException) -> JsonResponse:
    """MLflow's error answer {"error_code", "message"} with its status."""
    payload, status = error_payload(error)
    return JsonResponse(payload, status_code=status)
