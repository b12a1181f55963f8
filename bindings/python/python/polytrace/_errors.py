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
    (kind ``InvalidConfig``). Invalid ``OTEL_*`` environment values are warnings instead.

    For an error about one option, ``problem`` says what is wrong, as the core decided it:
    ``"UnknownOption"``, ``"DuplicateOption"`` (the same option in two spellings),
    ``"WrongType"`` (a type the option never accepts) or ``"BadValue"`` (an accepted type, an
    unusable value); ``option`` is the option's name as given (the canonical snake_case name for
    ``"DuplicateOption"``). Both are ``None`` for configuration errors found later, such as a
    TLS file that cannot be read."""

    kind = "InvalidConfig"
    problem: str | None = None
    option: str | None = None


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
