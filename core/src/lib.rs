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

pub mod api;
mod batch;
pub mod config;
pub mod diag;
pub mod error;
mod export;
mod ids;
pub mod intern;
mod otlp;
mod otlp_encode;
mod pipeline;
pub mod propagation;
pub mod redaction;
pub mod resource;
pub mod sampler;
pub mod span;
pub mod stats;
pub mod types;

pub use api::{Begun, Provider, Tracer};
pub use error::{guard, Error, ErrorKind, Result};
pub use span::{
    Event, Exception, FinishedHead, FinishedRecord, FinishedSpan, Link, Span, StartOptions,
    UnixNanos,
};
pub use stats::Stats;
pub use types::*;
