//! The finished-span format (`docs/finished-spans.md`): the byte layout bindings fill with
//! finished spans, decoded here into the core's records (and the logical record builder it is
//! written on, re-exported from [`crate::trace::finished`]).

pub use crate::trace::finished::{FinishedHead, FinishedRecord};
