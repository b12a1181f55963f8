//! polytrace for Java: the native half of the Maven artifact `io.polytrace:polytrace`.
//!
//! The Java half (`src/main/java/io/polytrace`) implements the OpenTelemetry Java API's
//! `OpenTelemetry`, `TracerProvider`, `Tracer`, `SpanBuilder`, `Span` and `TextMapPropagator`.
//! A live span is a plain Java object: starting one needs no call into Rust (ids come in
//! blocks from the core's generator, the sampling decision from the core's start plan), and
//! `end()` appends it to a byte stream in the core's finished-span format that crosses into
//! Rust once per many spans ([`batch`]). Only rare paths (construction, flush, shutdown, stats,
//! propagation, a sampler that must be asked) are calls of their own ([`provider`]).
//!
//! Errors: every entry point runs under [`entry!`] (a `catch_unwind`); a core error is thrown
//! as `io.polytrace.PolytraceException.<Kind>`, a panic as `PolytraceException.Internal`.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod batch;
mod convert;
mod diag;
mod error;
mod provider;
mod raw;
#[cfg(feature = "testing")]
mod testing;
mod wire;
