//! The deadline of a shutdown, shared by the pipeline that sets it and every export still
//! running, which must be done by it.
//!
//! While the provider runs, a request is retried within `OTEL_BSP_EXPORT_TIMEOUT`. Once
//! shutdown begins, everything still queued or in flight shares one deadline (the shutdown's
//! timeout, by default the exit bound, [`crate::Provider::exit_timeout`]): a request sleeping
//! in back-off wakes and makes one last attempt at once, an attempt under way is cut at the
//! deadline, a back end that did not answer at all (refused, reset, unreachable, no answer in
//! time) is not retried, and what is not delivered by the deadline is counted as dropped. So
//! an exit with the back end down takes milliseconds, and with the back end hanging, no more
//! than the deadline.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Instant;
use tokio::sync::watch;

/// Set once when a shutdown begins; read by the batch worker and by every request in flight.
#[derive(Debug)]
pub(crate) struct Drain {
    deadline: watch::Sender<Option<Instant>>,
    /// The deadline cut something: a request in flight, a retry, spans still queued.
    cut: AtomicBool,
}

impl Drain {
    pub(crate) fn new() -> Drain {
        Drain {
            deadline: watch::Sender::new(None),
            cut: AtomicBool::new(false),
        }
    }

    /// Notes that the deadline cut an export (its spans are counted as dropped).
    pub(crate) fn cut(&self) {
        self.cut.store(true, Relaxed);
    }

    /// Whether the deadline cut anything.
    pub(crate) fn was_cut(&self) -> bool {
        self.cut.load(Relaxed)
    }

    /// Starts draining: every export must be done by `deadline`. An earlier deadline already
    /// set stays.
    pub(crate) fn begin(&self, deadline: Instant) {
        self.deadline.send_if_modified(|d| match d {
            Some(earlier) if *earlier <= deadline => false,
            _ => {
                *d = Some(deadline);
                true
            }
        });
    }

    /// The shutdown's deadline, once it began.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        *self.deadline.borrow()
    }

    /// Whether the deadline has passed.
    pub(crate) fn expired(&self) -> bool {
        self.deadline().is_some_and(|d| Instant::now() >= d)
    }

    /// A receiver that wakes when draining begins (for requests in flight).
    pub(crate) fn watch(&self) -> watch::Receiver<Option<Instant>> {
        self.deadline.subscribe()
    }
}

/// Waits until draining begins (at once if it has), returning its deadline; never returns if
/// it never begins.
pub(crate) async fn started(rx: &mut watch::Receiver<Option<Instant>>) -> Instant {
    loop {
        if let Some(d) = *rx.borrow_and_update() {
            return d;
        }
        if rx.changed().await.is_err() {
            // The pipeline is gone without a shutdown: nothing will ever set a deadline.
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_earliest_deadline_wins() {
        let d = Drain::new();
        assert_eq!(d.deadline(), None);
        assert!(!d.expired());
        let t = Instant::now() + Duration::from_secs(10);
        d.begin(t);
        d.begin(t + Duration::from_secs(5));
        assert_eq!(d.deadline(), Some(t));
        d.begin(t - Duration::from_secs(20));
        assert!(d.expired());
    }

    #[test]
    fn a_watcher_wakes_when_draining_begins() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let d = std::sync::Arc::new(Drain::new());
        let mut rx = d.watch();
        let t = Instant::now() + Duration::from_secs(1);
        let d2 = d.clone();
        let got = rt.block_on(async move {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                d2.begin(t);
            });
            tokio::time::timeout(Duration::from_secs(5), started(&mut rx)).await
        });
        assert_eq!(got.ok(), Some(t));
    }
}
