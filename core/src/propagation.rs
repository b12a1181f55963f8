//! W3C trace-context (Level 1 + Level 2 random flag) and W3C baggage propagation, as pure
//! inject/extract over lists of (key, value) pairs. (Being written; see the module owner.)

use std::sync::Arc;

/// W3C `tracestate`: an ordered list of vendor entries. Cheap to clone (shared).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TraceState(Option<Arc<Vec<(String, String)>>>);

impl TraceState {
    /// The entries, most recent first.
    pub fn entries(&self) -> &[(String, String)] {
        self.0.as_deref().map(|v| v.as_slice()).unwrap_or(&[])
    }
    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }
}
