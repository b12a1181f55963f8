//! A real OTLP trace receiver, as a library.
//!
//! polytrace's tests, benchmarks and the `polytrace receive` command need a back
//! end that speaks OTLP exactly as the OpenTelemetry Collector does: gRPC and
//! OTLP/HTTP (binary protobuf and JSON), gzip, TLS and mutual TLS, and the
//! retryable failures (`503` + `Retry-After`, `UNAVAILABLE`, `RESOURCE_EXHAUSTED`
//! with a `google.rpc.RetryInfo`) that exporters must survive. This crate is that
//! back end, small enough to start in every test.
//!
//! [`Receiver::start`] binds its listeners and runs them on its own tokio runtime,
//! so synchronous tests can use it directly:
//!
//! ```no_run
//! use polytrace_receiver::{Receiver, ReceiverConfig};
//! use std::time::Duration;
//!
//! let receiver = Receiver::start(ReceiverConfig::grpc_and_http())?;
//! let endpoint = receiver.grpc_endpoint(); // "http://127.0.0.1:PORT"
//! // ... point an exporter at `endpoint` and send spans ...
//! assert!(receiver.wait_for_spans(1, Duration::from_secs(5)));
//! receiver.shutdown();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Servers never bind anything but what the caller asks for; every constructor
//! here binds loopback (`127.0.0.1`) ports only.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod server;
mod tls;
mod wire;

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// The protobuf types, re-exported so users get the exact version used here.
pub use opentelemetry_proto;
pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
pub use polytrace_otlp_json::{request_from_json, request_to_json_line, JsonError};
/// gRPC status codes, as used by [`Faults::grpc_code`] (re-exported from tonic).
pub use tonic::Code;

/// The loopback address with port 0: the OS picks a free port.
const LOOPBACK_EPHEMERAL: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));

/// How a request reached the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// OTLP/gRPC (`TraceService/Export`).
    Grpc,
    /// OTLP/HTTP with a binary protobuf body (`application/x-protobuf`).
    HttpProtobuf,
    /// OTLP/HTTP with a JSON body (`application/json`).
    HttpJson,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Grpc => "grpc",
            Transport::HttpProtobuf => "http/protobuf",
            Transport::HttpJson => "http/json",
        })
    }
}

/// One export request the receiver accepted (answered with success).
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedRequest {
    /// The protocol it arrived on.
    pub transport: Transport,
    /// Every request header (gRPC metadata included), names lowercase, values
    /// decoded lossily as UTF-8, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Whether the payload was gzip-compressed (`Content-Encoding: gzip`, or a
    /// compressed gRPC message).
    pub compressed: bool,
    /// The decoded request.
    pub request: ExportTraceServiceRequest,
}

impl ReceivedRequest {
    /// The first value of header `name` (matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// How many spans the request carries.
    pub fn span_count(&self) -> u64 {
        count_spans(&self.request)
    }
}

/// How many spans an export request carries.
pub fn count_spans(request: &ExportTraceServiceRequest) -> u64 {
    request
        .resource_spans
        .iter()
        .flat_map(|rs| rs.scope_spans.iter())
        .map(|ss| ss.spans.len() as u64)
        .sum()
}

/// Server certificate and key, and optionally the CA that client certificates
/// must chain to. Used by both servers.
#[derive(Clone, Default)]
pub struct TlsConfig {
    /// The server certificate chain, PEM (leaf first).
    pub cert_pem: Vec<u8>,
    /// The server private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
    /// CA certificates, PEM. When set, clients must present a certificate
    /// signed by one of them (mutual TLS); handshakes without one fail.
    pub client_ca_pem: Option<Vec<u8>>,
}

impl fmt::Debug for TlsConfig {
    // The key stays out of logs and test failure output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert_pem", &format_args!("{} bytes", self.cert_pem.len()))
            .field("key_pem", &"<redacted>")
            .field("client_ca", &self.client_ca_pem.is_some())
            .finish()
    }
}

impl TlsConfig {
    /// Server TLS without client authentication.
    pub fn new(cert_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> Self {
        TlsConfig {
            cert_pem: cert_pem.into(),
            key_pem: key_pem.into(),
            client_ca_pem: None,
        }
    }

    /// Requires client certificates signed by `ca_pem` (mutual TLS).
    pub fn with_client_ca(mut self, ca_pem: impl Into<Vec<u8>>) -> Self {
        self.client_ca_pem = Some(ca_pem.into());
        self
    }

    /// Reads the PEM files (for the CLI's `--tls-cert`, `--tls-key`, `--tls-client-ca`).
    pub fn from_files(cert: &Path, key: &Path, client_ca: Option<&Path>) -> io::Result<Self> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))
        };
        Ok(TlsConfig {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
            client_ca_pem: client_ca.map(read).transpose()?,
        })
    }
}

/// Injected failures: the first [`fail_first`](Faults::fail_first) export
/// requests (counted over both servers) are answered with an error instead of
/// being accepted, so exporters' retry and back-off paths can be tested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Faults {
    /// How many requests to fail before accepting. 0 (the default) fails none.
    pub fail_first: u64,
    /// HTTP status for failed OTLP/HTTP requests. Default 503.
    pub http_status: u16,
    /// gRPC status code for failed gRPC requests. Default `UNAVAILABLE`.
    pub grpc_code: Code,
    /// Throttling hint: sent as `Retry-After: <seconds, rounded up>` over HTTP,
    /// and as a `google.rpc.RetryInfo` detail (in `grpc-status-details-bin`)
    /// over gRPC. `None` (the default) sends neither.
    pub retry_after: Option<Duration>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            fail_first: 0,
            http_status: 503,
            grpc_code: Code::Unavailable,
            retry_after: None,
        }
    }
}

impl Faults {
    /// No injected failures.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Fails the first `n` requests with the defaults (HTTP 503, gRPC `UNAVAILABLE`).
    pub fn fail_first(n: u64) -> Self {
        Faults {
            fail_first: n,
            ..Faults::default()
        }
    }

    /// Sets the HTTP status of failed requests.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = status;
        self
    }

    /// Sets the gRPC code of failed requests.
    pub fn with_grpc_code(mut self, code: Code) -> Self {
        self.grpc_code = code;
        self
    }

    /// Sets the throttling hint (`Retry-After` / `RetryInfo`) of failed requests.
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }
}

/// A callback run for every accepted request, on a server thread, before the
/// success response is sent (so a client that saw success knows the callback
/// has finished). Keep it short: it delays the response.
pub type RequestHook = Arc<dyn Fn(&ReceivedRequest) + Send + Sync>;

/// What to start. Build one with [`ReceiverConfig::grpc`],
/// [`ReceiverConfig::http`] or [`ReceiverConfig::grpc_and_http`] and adjust
/// the fields, or use struct-update syntax over `Default::default()` (which
/// starts no server at all).
#[derive(Clone)]
pub struct ReceiverConfig {
    /// Address of the OTLP/gRPC server (e.g. `127.0.0.1:0` for an ephemeral
    /// port); `None` starts no gRPC server.
    pub grpc_addr: Option<SocketAddr>,
    /// Address of the OTLP/HTTP server (`POST /v1/traces`, protobuf or JSON);
    /// `None` starts no HTTP server.
    pub http_addr: Option<SocketAddr>,
    /// TLS for both servers; `None` serves plain text (h2c for gRPC).
    pub tls: Option<TlsConfig>,
    /// Injected failures.
    pub faults: Faults,
    /// Throughput mode for benchmarks: binary protobuf payloads are not
    /// decoded, only walked on the wire format to count spans, and no request
    /// is kept ([`Receiver::requests`] stays empty, hooks are not called).
    pub count_only: bool,
    /// Keep accepted requests for [`Receiver::requests`]. Default `true`; a
    /// long-running receiver that hands requests to [`on_request`](Self::on_request)
    /// turns it off to keep memory bounded.
    pub keep_requests: bool,
    /// Called for every accepted request (not in `count_only` mode).
    pub on_request: Option<RequestHook>,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            grpc_addr: None,
            http_addr: None,
            tls: None,
            faults: Faults::default(),
            count_only: false,
            keep_requests: true,
            on_request: None,
        }
    }
}

impl fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiverConfig")
            .field("grpc_addr", &self.grpc_addr)
            .field("http_addr", &self.http_addr)
            .field("tls", &self.tls)
            .field("faults", &self.faults)
            .field("count_only", &self.count_only)
            .field("keep_requests", &self.keep_requests)
            .field("on_request", &self.on_request.is_some())
            .finish()
    }
}

impl ReceiverConfig {
    /// A gRPC server on an ephemeral loopback port.
    pub fn grpc() -> Self {
        ReceiverConfig {
            grpc_addr: Some(LOOPBACK_EPHEMERAL),
            ..Default::default()
        }
    }

    /// An OTLP/HTTP server on an ephemeral loopback port.
    pub fn http() -> Self {
        ReceiverConfig {
            http_addr: Some(LOOPBACK_EPHEMERAL),
            ..Default::default()
        }
    }

    /// Both servers, each on an ephemeral loopback port.
    pub fn grpc_and_http() -> Self {
        ReceiverConfig {
            grpc_addr: Some(LOOPBACK_EPHEMERAL),
            http_addr: Some(LOOPBACK_EPHEMERAL),
            ..Default::default()
        }
    }

    /// Sets TLS for both servers.
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets injected failures.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Turns on the count-only throughput mode.
    pub fn count_only(mut self) -> Self {
        self.count_only = true;
        self
    }
}

/// State shared by the server tasks and the [`Receiver`] handle.
pub(crate) struct Shared {
    pub(crate) faults: Faults,
    pub(crate) count_only: bool,
    pub(crate) keep_requests: bool,
    pub(crate) on_request: Option<RequestHook>,
    requests: Mutex<Vec<ReceivedRequest>>,
    spans: AtomicU64,
    request_count: AtomicU64,
    // Paired with `changed`; guards nothing but the wake-up handshake.
    wake: Mutex<()>,
    changed: Condvar,
}

impl Shared {
    /// Counts an incoming export request; returns whether it must be failed.
    pub(crate) fn admit(&self) -> bool {
        let n = self.request_count.fetch_add(1, Ordering::SeqCst) + 1;
        n <= self.faults.fail_first
    }

    /// Records an accepted request.
    pub(crate) fn accept(&self, spans: u64, received: Option<ReceivedRequest>) {
        if let Some(received) = received {
            if let Some(hook) = &self.on_request {
                hook(&received);
            }
            if self.keep_requests {
                self.requests.lock().push(received);
            }
        }
        self.spans.fetch_add(spans, Ordering::SeqCst);
        let _guard = self.wake.lock();
        self.changed.notify_all();
    }
}

/// A running receiver. Dropping it stops the servers, like [`Receiver::shutdown`].
pub struct Receiver {
    shared: Arc<Shared>,
    grpc_addr: Option<SocketAddr>,
    http_addr: Option<SocketAddr>,
    tls: bool,
    servers: Option<server::Servers>,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("grpc_addr", &self.grpc_addr)
            .field("http_addr", &self.http_addr)
            .field("tls", &self.tls)
            .field("request_count", &self.request_count())
            .field("span_count", &self.span_count())
            .finish()
    }
}

impl Receiver {
    /// Binds the configured listeners and starts serving on a private tokio
    /// runtime (its own threads), so it works from plain synchronous code and
    /// from inside another runtime alike. Fails if a port can't be bound or the
    /// TLS material doesn't parse.
    pub fn start(cfg: ReceiverConfig) -> io::Result<Receiver> {
        let tls = cfg.tls.as_ref().map(tls::server_config).transpose()?;
        let shared = Arc::new(Shared {
            faults: cfg.faults.clone(),
            count_only: cfg.count_only,
            keep_requests: cfg.keep_requests,
            on_request: cfg.on_request.clone(),
            requests: Mutex::new(Vec::new()),
            spans: AtomicU64::new(0),
            request_count: AtomicU64::new(0),
            wake: Mutex::new(()),
            changed: Condvar::new(),
        });
        let servers = server::Servers::start(
            Arc::clone(&shared),
            cfg.grpc_addr,
            cfg.http_addr,
            tls.clone(),
        )?;
        Ok(Receiver {
            shared,
            grpc_addr: servers.grpc_addr,
            http_addr: servers.http_addr,
            tls: tls.is_some(),
            servers: Some(servers),
        })
    }

    fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    /// The bound gRPC address, if a gRPC server runs.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc_addr
    }

    /// The bound OTLP/HTTP address, if an HTTP server runs.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The gRPC endpoint, `http://127.0.0.1:PORT` (`https://` with TLS): the
    /// value for `OTEL_EXPORTER_OTLP_ENDPOINT` with protocol `grpc`.
    pub fn grpc_endpoint(&self) -> Option<String> {
        self.grpc_addr.map(|a| format!("{}://{a}", self.scheme()))
    }

    /// The full OTLP/HTTP traces URL, `http://127.0.0.1:PORT/v1/traces`
    /// (`https://` with TLS): the value for `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
    pub fn http_endpoint(&self) -> Option<String> {
        self.http_addr
            .map(|a| format!("{}://{a}/v1/traces", self.scheme()))
    }

    /// Every accepted request so far, in arrival order (empty in `count_only`
    /// mode or with `keep_requests` off).
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.requests.lock().clone()
    }

    /// Removes and returns the accepted requests kept so far.
    pub fn take_requests(&self) -> Vec<ReceivedRequest> {
        std::mem::take(&mut *self.shared.requests.lock())
    }

    /// Spans in all accepted requests so far.
    pub fn span_count(&self) -> u64 {
        self.shared.spans.load(Ordering::SeqCst)
    }

    /// Export requests received so far, failed (injected or malformed) ones included.
    pub fn request_count(&self) -> u64 {
        self.shared.request_count.load(Ordering::SeqCst)
    }

    /// Blocks until at least `n` spans were accepted or `timeout` passed;
    /// returns whether `n` was reached.
    pub fn wait_for_spans(&self, n: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = self.shared.wake.lock();
        loop {
            if self.span_count() >= n {
                return true;
            }
            if self
                .shared
                .changed
                .wait_until(&mut guard, deadline)
                .timed_out()
            {
                return self.span_count() >= n;
            }
        }
    }

    /// Stops both servers: stops accepting, lets in-flight requests finish for
    /// up to about a second, then closes everything. Bounded in time; also done
    /// on drop.
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// As [`shutdown`](Self::shutdown), keeping the receiver to read its counts: what it
    /// accepted up to the end, in-flight requests included (a count read before `shutdown`
    /// can miss those).
    pub fn stop(&mut self) {
        if let Some(servers) = self.servers.take() {
            servers.stop();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}
