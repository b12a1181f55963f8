//! Diagnostics: warnings the core cannot return as errors (a bad environment value, an export
//! failure on the background thread, a dropped attribute). They go to stderr by default;
//! bindings install a handler that routes them to the host's logging (Python `logging`,
//! `@opentelemetry/api`'s `diag`, `logger`, `java.util.logging`). Repeated messages with the
//! same `cause` are reported once per process, not once per call.

use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Severity of a diagnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something was ignored or a default was used.
    Warn,
    /// Data was lost (export failure, drops).
    Error,
}

/// A diagnostic handler.
pub type Handler = Arc<dyn Fn(Level, &str) + Send + Sync>;

static HANDLER: RwLock<Option<Handler>> = RwLock::new(None);
static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
static LAST: Mutex<Option<HashMap<&'static str, Instant>>> = Mutex::new(None);

/// Installs the handler that receives every diagnostic (`None` restores stderr).
pub fn set_handler(handler: Option<Handler>) {
    *HANDLER.write() = handler;
}

/// Emits a diagnostic now.
pub fn emit(level: Level, message: &str) {
    let handler = HANDLER.read().clone();
    match handler {
        Some(h) => h(level, message),
        None => eprintln!(
            "polytrace: {}: {message}",
            if level == Level::Warn {
                "warning"
            } else {
                "error"
            }
        ),
    }
}

/// Emits a diagnostic the first time `cause` is seen in this process; later calls with the same
/// cause are silent, so a hot path that keeps hitting the same problem does not flood logs.
pub fn emit_once(level: Level, cause: &str, message: &str) {
    {
        let mut seen = SEEN.lock();
        let set = seen.get_or_insert_with(HashSet::new);
        if set.len() > 10_000 || !set.insert(cause.to_string()) {
            return;
        }
    }
    emit(level, message);
}

/// Emits a diagnostic unless one with the same `cause` was emitted less than `every` ago, for
/// a background task that may keep failing the same way (an unreachable sampling endpoint):
/// one line per kind of failure per interval, not one per attempt. Not for the span hot path
/// (it takes a lock).
pub fn emit_every(level: Level, cause: &'static str, every: Duration, message: &str) {
    {
        let now = Instant::now();
        let mut last = LAST.lock();
        let map = last.get_or_insert_with(HashMap::new);
        match map.get(cause) {
            Some(t) if now.duration_since(*t) < every => return,
            _ => {
                map.insert(cause, now);
            }
        }
    }
    emit(level, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_per_cause() {
        let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let n2 = n.clone();
        set_handler(Some(Arc::new(move |_, m: &str| {
            if m.contains("diag-test") {
                n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })));
        emit_once(Level::Warn, "diag-test-cause", "diag-test 1");
        emit_once(Level::Warn, "diag-test-cause", "diag-test 2");
        emit(Level::Warn, "diag-test 3");
        emit_every(
            Level::Warn,
            "diag-test-every",
            Duration::from_secs(60),
            "diag-test 4",
        );
        emit_every(
            Level::Warn,
            "diag-test-every",
            Duration::from_secs(60),
            "diag-test 5",
        );
        emit_every(
            Level::Warn,
            "diag-test-other",
            Duration::from_secs(60),
            "diag-test 6",
        );
        emit_every(
            Level::Warn,
            "diag-test-short",
            Duration::ZERO,
            "diag-test 7",
        );
        emit_every(
            Level::Warn,
            "diag-test-short",
            Duration::ZERO,
            "diag-test 8",
        );
        set_handler(None);
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 6);
    }
}
