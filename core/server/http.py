"""Request parsing and JSON answers shared by the handlers (Starlette requests in, responses out)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..rest.protocol import dumps, query_body
from .errors import MalformedRequest, error_payload

MAX_JSON_BODY = 64 * 1024 * 1024  # far above MLflow's 1 MB log-batch limit; a guard, not a rule

_orjson_loads: Callable[[bytes], Any] | None
try:  # orjson (the `server` extra): a 500-point log-batch body decodes in a third of json's CPU
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - the standard decoder alone gives the same answers
    _orjson_loads = None

# orjson turns integers past 64 bits into floats where json keeps them exact: a body holding a run
# of 20 digits (2**64 has 20) is left to json. Digits are mapped to "0" and the run searched in C.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_TWENTY_DIGITS = b"0" * 20


def decode_json(raw: bytes) -> Any:
    """json.loads(raw), through orjson when it gives the same value (faster on large bodies).

    What orjson refuses and json accepts (NaN and Infinity literals, lone surrogates, UTF-16 bodies,
    numbers out of float range) and integers of 20 digits or more go to json, whose answer (or
    error) is the reference.
    """
    if _orjson_loads is not None and _TWENTY_DIGITS not in raw.translate(_DIGITS_AS_ZERO):
        try:
            return _orjson_loads(raw)
        except ValueError:
            pass
    return json.loads(raw)


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
            body = decode_json(raw)
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
