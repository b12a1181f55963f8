"""Error mapping: one exception class per core ErrorKind under polytrace.Error; a Rust panic
becomes polytrace.InternalError (an Exception, not pyo3's BaseException PanicException)."""

from __future__ import annotations

import pytest

import polytrace
from polytrace import _native

EXPECTED = {
    "InvalidArgument": polytrace.InvalidArgumentError,
    "InvalidConfig": polytrace.ConfigError,
    "Export": polytrace.ExportError,
    "Timeout": polytrace.TimeoutError,
    "AlreadyShutdown": polytrace.AlreadyShutdownError,
    "Internal": polytrace.InternalError,
}

# test.sh builds the extension with the `testing` feature; without it these tests must fail, not skip.
assert _native.TESTING, "the tests need the `testing` feature build (bindings/python/test.sh)"


def test_every_kind_is_mapped():
    assert sorted(_native.error_kinds()) == sorted(EXPECTED)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_kind_maps_to_its_class(kind):
    with pytest.raises(EXPECTED[kind]) as ei:
        _native._testing_error(kind)
    e = ei.value
    assert isinstance(e, polytrace.Error) and isinstance(e, Exception)
    assert type(e) is EXPECTED[kind]
    assert e.kind == kind
    assert kind in str(e)


def test_unknown_kind_is_invalid_argument():
    with pytest.raises(polytrace.InvalidArgumentError, match="unknown error kind"):
        _native._testing_error("Nope")


def test_panic_becomes_internal_error():
    with pytest.raises(polytrace.InternalError, match="panic in polytrace core"):
        _native._testing_panic()
    # The interpreter and the module still work afterwards.
    with pytest.raises(polytrace.InternalError):
        _native._testing_panic()


def test_python_hierarchy():
    assert issubclass(polytrace.ConfigError, ValueError)
    assert issubclass(polytrace.InvalidArgumentError, ValueError)
    assert issubclass(polytrace.TimeoutError, TimeoutError)
    for cls in EXPECTED.values():
        assert issubclass(cls, polytrace.Error)


def test_config_errors_from_the_provider():
    with pytest.raises(polytrace.ConfigError, match="unknown configuration option"):
        polytrace.TracerProvider(servce_name="typo")
    with pytest.raises(ValueError, match="max_queue_size"):
        polytrace.TracerProvider(max_queue_size=0)
    with pytest.raises(polytrace.ConfigError, match="unsupported type"):
        polytrace.TracerProvider(service_name=object())
    with pytest.raises(polytrace.ConfigError, match="given twice"):
        polytrace.TracerProvider(service_name="a", serviceName="b")
    with pytest.raises(polytrace.ConfigError):
        polytrace.TracerProvider(sampler="not-a-sampler")
    with pytest.raises(polytrace.ConfigError, match="out of range"):
        polytrace.TracerProvider(max_queue_size=2**70)


@pytest.mark.parametrize(
    ("options", "problem", "option"),
    [
        ({"servce_name": "typo"}, "UnknownOption", "servce_name"),
        ({"service_name": "a", "serviceName": "b"}, "DuplicateOption", "service_name"),
        ({"maxQueueSize": True}, "WrongType", "maxQueueSize"),
        ({"service_name": object()}, "WrongType", "service_name"),
        ({"headers": ["a=b"]}, "WrongType", "headers"),
        ({"max_queue_size": 0}, "BadValue", "max_queue_size"),
        ({"max_queue_size": "ten"}, "BadValue", "max_queue_size"),
        ({"max_queue_size": 2**70}, "BadValue", "max_queue_size"),
        ({"sampler": "not-a-sampler"}, "BadValue", "sampler"),
        ({"endpoint": "collector:4318"}, "BadValue", "endpoint"),
    ],
)
def test_config_errors_say_what_is_wrong_with_which_option(options, problem, option):
    with pytest.raises(polytrace.ConfigError) as ei:
        polytrace.TracerProvider(**options)
    e = ei.value
    assert (e.kind, e.problem, e.option) == ("InvalidConfig", problem, option)
    assert option in str(e)


def test_other_errors_have_no_config_detail():
    with pytest.raises(polytrace.ConfigError) as ei:
        _native._testing_error("InvalidConfig")
    assert (ei.value.problem, ei.value.option) == (None, None)
    # Found after the options were checked: the exporter reads its TLS files when it is built.
    with pytest.raises(polytrace.ConfigError, match="/nonexistent/polytrace-ca.pem") as ei:
        polytrace.TracerProvider(exporter="otlp", certificate="/nonexistent/polytrace-ca.pem")
    assert (ei.value.problem, ei.value.option) == (None, None)


def test_option_types_are_converted(tmp_path):
    import pathlib

    p = polytrace.TracerProvider(
        service_name="typed", exporter="file", file_path=pathlib.Path(tmp_path / "f.jsonl"),
        headers={"x-api-key": "secret"}, propagators=["tracecontext"], sampler_arg=0.5,
        sampler="traceidratio", max_queue_size=100, insecure=True, endpoint=None,
    )
    cfg = p.config
    assert cfg["file_path"].endswith("f.jsonl")
    assert cfg["headers"] == "x-api-key=***"  # names only: values are credentials
    assert cfg["propagators"] == "tracecontext"
    assert cfg["sampler_arg"] == "0.5"
    assert cfg["max_queue_size"] == "100"
    p.shutdown()
