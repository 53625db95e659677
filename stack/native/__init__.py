"""The native stack: every component of the bundle as a local process on 127.0.0.1."""

from __future__ import annotations

from stack.native.components import FETCH_HINT, Component
from stack.native.render import RenderError
from stack.native.settings import StackSettings
from stack.native.stack import ComponentStatus, NativeStack, PreflightError, StackError

__all__ = [
    "FETCH_HINT",
    "Component",
    "ComponentStatus",
    "NativeStack",
    "PreflightError",
    "RenderError",
    "StackError",
    "StackSettings",
]
