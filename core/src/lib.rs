//! polytrace-core: the one tracing pipeline every polytrace binding loads.
//!
//! Bindings use [`api`] (opaque handles and plain values); everything else is how the core
//! makes its decisions: [`config`], [`sampler`], [`propagation`], batching and export.
//!
//! ```no_run
//! use polytrace_core::{Provider, SpanKind, StartOptions, Status};
//! use std::time::Duration;
//!
//! # fn main() -> Result<(), polytrace_core::Error> {
//! let provider = Provider::new(&[])?; // OTEL_* environment + explicit options
//! let tracer = provider.tracer("checkout", None, None, vec![]);
//! let mut root = tracer.start_span(
//!     "POST /checkout",
//!     StartOptions { kind: SpanKind::Server, ..Default::default() },
//! );
//! root.set_attribute("app.items", 3i64);
//! let mut child = tracer.start_span(
//!     "charge",
//!     StartOptions { parent: Some(root.span_context()), ..Default::default() },
//! );
//! child.set_status(Status::Error("card declined".into()));
//! child.end(None);
//! root.end(None);
//! provider.shutdown(Duration::from_secs(5))?; // exports what is queued, bounded in time
//! # Ok(())
//! # }
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

// Layers, each using only those above it: types and config; propagation and trace (what a
// span is: ids, sampling, resource, scopes, the record and its rules); export (prepare,
// encode, transports, retry); pipeline (queue and batch worker, driving an export sink); api
// (the handles bindings hold) and finished (the finished-span format, decoded into records).
pub mod api;
pub mod config;
mod export;
pub mod finished;
mod pipeline;
pub mod propagation;
pub mod trace;
pub mod types;

pub mod diag;
pub mod error;
pub mod hex;
pub mod intern;
pub mod stats;
pub mod text;

pub use api::{Begun, Provider, Span, Tracer};
pub use api::{FinishedSpan, StartOptions};
pub use error::{guard, ConfigProblem, Error, ErrorKind, Result};
pub use export::redaction;
pub use stats::Stats;
pub use trace::finished::{FinishedHead, FinishedRecord};
pub use trace::record::{now_unix_nanos, Event, Exception, Link, UnixNanos};
pub use trace::{resource, sampler};
pub use types::*;
