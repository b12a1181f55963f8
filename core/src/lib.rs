//! polytrace-core: the one tracing pipeline every polytrace binding loads.
//!
//! Bindings use [`api`] (opaque handles and plain values); everything else is how the core
//! makes its decisions: [`config`], [`sampler`], [`propagation`], batching and export.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
mod batch;
pub mod config;
pub mod diag;
pub mod error;
mod export;
mod ids;
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
pub use span::{Event, Exception, FinishedSpan, Link, Span, StartOptions, UnixNanos};
pub use stats::Stats;
pub use types::*;
