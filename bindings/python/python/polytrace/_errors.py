"""Exceptions raised by polytrace: one class per core error kind, all under :class:`Error`."""

from __future__ import annotations

import builtins

__all__ = [
    "Error",
    "InvalidArgumentError",
    "ConfigError",
    "ExportError",
    "TimeoutError",
    "AlreadyShutdownError",
    "InternalError",
]


class Error(Exception):
    """Base class of every polytrace error. ``kind`` is the core's stable error kind name."""

    kind: str = ""


class InvalidArgumentError(Error, ValueError):
    """A value the API cannot accept (kind ``InvalidArgument``)."""

    kind = "InvalidArgument"


class ConfigError(Error, ValueError):
    """An invalid explicit configuration option: unknown name, wrong type or bad value
    (kind ``InvalidConfig``). Invalid ``OTEL_*`` environment values are warnings instead."""

    kind = "InvalidConfig"


class ExportError(Error):
    """Exporting to the back end failed (kind ``Export``)."""

    kind = "Export"


class TimeoutError(Error, builtins.TimeoutError):  # noqa: A001 - the kind's name
    """A flush or shutdown did not finish in time (kind ``Timeout``)."""

    kind = "Timeout"


class AlreadyShutdownError(Error):
    """The provider was already shut down (kind ``AlreadyShutdown``)."""

    kind = "AlreadyShutdown"


class InternalError(Error):
    """A bug in polytrace, e.g. a caught Rust panic (kind ``Internal``)."""

    kind = "Internal"
