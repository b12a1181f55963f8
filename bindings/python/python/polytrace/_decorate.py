"""Decorator support for ``Tracer.start_as_current_span``: each call of the decorated function
runs in a fresh span; coroutine functions keep the span current until they finish."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def decorate(cm: Any, func: F) -> F:
    """Wraps ``func`` so that every call runs inside ``cm._recreate()``."""
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with cm._recreate():
                return await func(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with cm._recreate():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
