//! Any SDK `SpanExporter` (Rust callers and tests), run on a runtime the core owns.

use super::Export;
use crate::error::{Error, ErrorKind, Result};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use std::future::Future;
use std::time::Duration;

/// Runs any SDK `SpanExporter` on a runtime the core owns: the host languages have none, and
/// the gRPC exporter panics without one.
pub(crate) struct SdkExport<E: SpanExporter> {
    exporter: E,
    /// `None` once shut down.
    runtime: Option<tokio::runtime::Runtime>,
    timeout: Duration,
}

impl<E: SpanExporter + 'static> SdkExport<E> {
    pub(crate) fn new(
        mut exporter: E,
        resource: &Resource,
        runtime: tokio::runtime::Runtime,
        timeout: Duration,
    ) -> Self {
        exporter.set_resource(resource);
        SdkExport {
            exporter,
            runtime: Some(runtime),
            timeout,
        }
    }
}

impl<E: SpanExporter + 'static> Export for SdkExport<E> {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()> {
        let timeout = self.timeout;
        let Some(runtime) = self.runtime.as_ref() else {
            return Err(Error::new(
                ErrorKind::AlreadyShutdown,
                "the exporter was shut down",
            ));
        };
        let _guard = runtime.enter();
        let mut fut = std::pin::pin!(self.exporter.export(batch));
        // Most in-process exporters finish at once: poll once before paying for `block_on` and
        // a timer. A network exporter returns Pending and continues under the timeout.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if let std::task::Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
            return r.map_err(|e| Error::new(ErrorKind::Export, e.to_string()));
        }
        drop(_guard);
        runtime.block_on(async move {
            match tokio::time::timeout(timeout, fut).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(Error::new(ErrorKind::Export, e.to_string())),
                Err(_) => Err(Error::new(
                    ErrorKind::Timeout,
                    format!("export did not finish within {timeout:?}"),
                )),
            }
        })
    }

    fn shutdown(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            {
                let _guard = runtime.enter();
                let _ = self.exporter.shutdown_with_timeout(Duration::from_secs(1));
            }
            // Bounded: a hung export task cannot keep the batch thread from finishing.
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// A runtime with one worker thread for the exporter's network I/O.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("polytrace-export")
        .on_thread_start(quiet_sigpipe)
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the export runtime: {e}")))
}

/// Blocks `SIGPIPE` in the calling thread; every thread the core starts (the batch worker, the
/// export runtime's workers and blocking threads) calls it first.
///
/// A write to a connection the back end has closed raises `SIGPIPE` in the writing thread, and
/// its default action ends the process. Rust executables, Python, Node and the JVM ignore it,
/// but a C or C++ host usually does not: a TLS handshake the server rejects (mTLS without a
/// client certificate) killed a C program now and then — hyper's vectored writes (`writev`)
/// cannot ask for `MSG_NOSIGNAL`. Blocked in our own threads, the signal is never delivered
/// (a thread-directed signal stays pending on a thread that blocks it); the write fails with
/// `EPIPE` and the export fails, counted. The host's own threads and its disposition of
/// `SIGPIPE` are left alone.
pub(crate) fn quiet_sigpipe() {
    #[cfg(unix)]
    {
        // SAFETY: sigemptyset/sigaddset initialise the local set; pthread_sigmask changes only
        // the calling thread's mask, which is ours (a core thread, at its start).
        unsafe {
            let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
            libc::sigemptyset(set.as_mut_ptr());
            libc::sigaddset(set.as_mut_ptr(), libc::SIGPIPE);
            libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), std::ptr::null_mut());
        }
    }
}
