"""What every client shares: an ``httpx.Client`` with a base URL, JSON helpers, and
:func:`poll`, the one way this package waits for something."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

__all__ = ["ApiError", "BaseClient", "WaitTimeout", "poll"]

T = TypeVar("T")


class ApiError(RuntimeError):
    """An HTTP answer that was not what the API promises."""


class WaitTimeout(TimeoutError):
    """A condition never became true; the message names it and the last state seen."""

    def __init__(self, what: str, timeout: float, last: Any) -> None:
        super().__init__(f"{what} never happened within {timeout:g} s; last state seen: {_short(last)}")
        self.what, self.timeout, self.last = what, timeout, last


def _short(value: Any, limit: int = 2000) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more chars)"


def poll(
    probe: Callable[[], tuple[bool, T]],
    what: str,
    timeout: float,
    interval: float = 0.1,
) -> T:
    """Call ``probe`` until it answers ``(True, value)``; return that value.

    ``probe`` returns its state either way, so a timeout can say what was last seen;
    an HTTP error counts as a state too (the service may not be up yet).
    """
    deadline = time.monotonic() + timeout
    last: Any = "never probed"
    while True:
        try:
            done, state = probe()
            if done:
                return state
            last = state
        except (httpx.HTTPError, ApiError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise WaitTimeout(what, timeout, last)
        time.sleep(interval)


class BaseClient:
    """A thin JSON client; use as a context manager or call :meth:`close`."""

    def __init__(self, base_url: str, timeout: float = 5.0, headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _check(self, resp: httpx.Response, *ok: int) -> httpx.Response:
        if resp.status_code not in (ok or (200,)):
            request = f"{resp.request.method} {resp.request.url}"
            raise ApiError(f"{request} -> {resp.status_code}: {resp.text[:500]}")
        return resp

    def _json(self, method: str, path: str, *ok: int, **kwargs: Any) -> Any:
        return self._check(self.http.request(method, path, **kwargs), *ok).json()

    def healthy(self, path: str = "/health") -> bool:
        """True when ``path`` answers 2xx; never raises."""
        try:
            return self.http.get(path).is_success
        except httpx.HTTPError:
            return False
