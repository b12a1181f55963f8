//! What a span is and how it is decided: ids, sampling, the resource, instrumentation scopes,
//! and the record every span is built into under the configured limits.

pub mod finished;
pub(crate) mod ids;
pub mod record;
pub mod resource;
pub mod sampler;
pub(crate) mod scope;
