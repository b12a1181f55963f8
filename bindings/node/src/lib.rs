//! polytrace for Node.js: the native half of the npm package `polytrace`.
//!
//! The JavaScript half (`index.js`, `lib/`) implements `@opentelemetry/api`'s
//! `TracerProvider`, `Tracer`, `Span`, `ContextManager` and `TextMapPropagator`. A live span is
//! a plain JavaScript object: starting one needs no call into Rust (ids come from a pool the
//! core fills, the sampling decision from the core's start plan), and `end()` appends it to a
//! batch in the core's finished-span format (`docs/finished-spans.md`, decoded by
//! `polytrace_core::finished::Decoder`), which crosses into Rust once per many spans. The core
//! applies every span rule while decoding; JavaScript keeps the API, the context and packing.
//! Only the rare paths
//! (construction, flush, shutdown, stats, a sampler that must be asked) use napi-rs classes;
//! the per-span paths are hand-written Node-API functions ([`raw`]), because napi-rs's
//! conversions cost more than a whole JavaScript span.
//!
//! Errors: every entry point runs under [`error::guard`]; a core error is thrown as an
//! `Error` whose `code` is the core's `ErrorKind` name, and a panic as `code: 'Internal'`.

// napi-rs registers entry points only outside `cfg(test)`, so a test build sees them unused.
#![cfg_attr(test, allow(dead_code, unused_imports))]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod convert;
mod diag;
mod error;
mod provider;
mod raw;
#[cfg(feature = "testing")]
mod testing;
