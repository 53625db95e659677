"""JSON error answers: every failure before a stream starts is ``{"error", "detail"}``.

:class:`ApiError` is raised by handlers for input they refuse; the handlers installed
by :func:`install_error_handlers` also turn FastAPI's own validation errors, 404 / 405
and anything unexpected into the same shape, so a client never has to parse HTML or a
bare string, and an unexpected exception answers a JSON 500 instead of a dropped
connection.

Usage::

    install_error_handlers(app)
    raise ApiError(413, "body_too_large", "the body is larger than 262144 bytes")
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["ApiError", "install_error_handlers", "validation_details"]

_log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refused request: HTTP ``status``, a short ``error`` code and a ``detail``."""

    def __init__(self, status: int, error: str, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "detail": self.detail}, self.status, headers=self.headers)


def validation_details(exc: ValidationError | RequestValidationError) -> list[dict[str, str]]:
    """Pydantic errors as ``{"field", "message"}`` pairs (without echoing the input back)."""
    return [
        {"field": ".".join(str(p) for p in err.get("loc", ())) or "body", "message": str(err.get("msg", ""))}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def request_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"error": "invalid_request", "detail": validation_details(exc)}, 422)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        error = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": error, "detail": exc.detail}, exc.status_code, headers=exc.headers)

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        _log.error("unhandled error", exc_info=exc)
        return JSONResponse({"error": "internal_error", "detail": "unexpected server error"}, 500)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
