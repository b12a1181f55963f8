//! polytrace-core: the one tracing pipeline every polytrace binding loads.
//!
//! Bindings use [`api`] (opaque handles and plain values); everything else is how the core
//! makes its decisions: [`config`], [`sampler`], [`propagation`], batching and export.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod config;
pub mod error;
pub mod propagation;
pub mod types;

pub use error::{guard, Error, ErrorKind, Result};
pub use types::*;
