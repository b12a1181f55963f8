"""Type stubs of the native extension ``polytrace._native`` (checked by ``mypy.stubtest`` in
``tests/test_stubs.py``). Use the public names re-exported by ``polytrace``."""

from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from types import TracebackType
from typing import Any, TypeVar, final

from opentelemetry.context import Context
from opentelemetry import trace as _trace
from opentelemetry.propagators.textmap import CarrierT, Getter, Setter, TextMapPropagator
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.util.types import Attributes, AttributeValue

__all__ = [
    "Provider",
    "Tracer",
    "CurrentSpan",
    "Span",
    "Propagator",
    "_resolve_config",
    "option_names",
    "error_kinds",
    "_set_python_logging",
    "_testing_panic",
    "_testing_error",
    "TESTING",
]

_F = TypeVar("_F", bound=Callable[..., Any])

TESTING: bool

@final
class Provider:
    def __new__(cls, options: Mapping[str, Any] | None = None) -> Provider: ...
    def tracer(
        self,
        name: str,
        version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes = None,
    ) -> Tracer: ...
    def force_flush(self, timeout_millis: int) -> bool: ...
    def shutdown(self, timeout_millis: int) -> None: ...
    def is_shutdown(self) -> bool: ...
    def stats(self) -> dict[str, int]: ...
    def after_fork_child(self) -> None: ...
    def effective_config(self) -> list[tuple[str, str]]: ...
    def warnings(self) -> list[tuple[str, str]]: ...
    @property
    def exit_timeout_millis(self) -> int: ...
    @property
    def propagator(self) -> Propagator: ...

@final
class Tracer(_trace.Tracer):  # a virtual subclass at runtime
    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span: ...
    # Returns a context manager that is also a decorator, like the API's
    # _AgnosticContextManager (a private class of opentelemetry-api).
    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> CurrentSpan: ...

@final
class CurrentSpan:
    def __enter__(self) -> Span: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None: ...
    def _recreate(self) -> CurrentSpan: ...
    def __call__(self, func: _F) -> _F: ...

@final
class Span(_trace.Span):  # a virtual subclass at runtime
    def get_span_context(self) -> SpanContext: ...
    def is_recording(self) -> bool: ...
    def set_attribute(self, key: str, value: AttributeValue) -> None: ...
    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None: ...
    def add_event(
        self, name: str, attributes: Attributes = None, timestamp: int | None = None
    ) -> None: ...
    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None: ...
    def update_name(self, name: str) -> None: ...
    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None: ...
    def record_exception(
        self,
        exception: BaseException,
        attributes: Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None: ...
    def end(self, end_time: int | None = None) -> None: ...
    @property
    def kind(self) -> SpanKind: ...
    @property
    def name(self) -> str: ...
    def __enter__(self) -> Span: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None: ...

@final
class Propagator(TextMapPropagator):  # a virtual subclass at runtime
    def inject(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        setter: Setter[CarrierT] | None = None,
    ) -> None: ...
    def extract(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        getter: Getter[CarrierT] | None = None,
    ) -> Context: ...
    @property
    def fields(self) -> set[str]: ...
    def _extract_raw(
        self, carrier: Sequence[tuple[str, str]]
    ) -> tuple[tuple[str, str, int, str] | None, list[tuple[str, str, str]]]: ...
    def _inject_raw(
        self,
        context: tuple[str, str, int, str] | None,
        baggage: Sequence[tuple[str, str, str]],
    ) -> list[tuple[str, str]]: ...

def _resolve_config(
    options: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[list[tuple[str, str]], list[str]]: ...
def option_names() -> list[str]: ...
def error_kinds() -> list[str]: ...
def _set_python_logging(enabled: bool) -> None: ...
def _testing_panic() -> None: ...
def _testing_error(kind: str) -> None: ...
