//! The remote sampler's poller: one small thread per pipeline (`polytrace-sampling`, with a
//! single-threaded tokio runtime) that fetches the service's strategy from the configured
//! endpoint every polling interval and swaps it into the sampler. Span starts never wait for
//! it: they read whatever strategy is in force.
//!
//! * HTTP (an endpoint with a path): `GET <endpoint>?service=NAME`, a JSON answer.
//! * gRPC (`host:port`): `jaeger.api_v2.SamplingManager/GetSamplingStrategy`.
//!
//! A failed fetch (unreachable, an error status, a malformed or oversized answer) keeps the
//! strategy in force — the initial probability until the first success — counts
//! `sampler_poll_failures`, and is logged at most once a minute per kind of failure.

use crate::config::RemoteTransport;
use crate::export::otlp::{install_crypto_provider, user_agent, RawCodec};
use crate::stats::Counters;
use crate::trace::sampler::remote::RemoteSampler;
use crate::trace::sampler::strategy::{grpc_request, Strategy};
use bytes::Bytes;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::Arc;
use std::time::Duration;

/// The gRPC method.
const GRPC_PATH: &str = "/jaeger.api_v2.SamplingManager/GetSamplingStrategy";
/// Largest answer accepted (a strategy of 2,000 operations is about 200 KB of JSON).
const MAX_BODY: usize = 4 << 20;
/// Bound on one fetch (the Java sampler's timeout), and at least the polling interval.
const MAX_FETCH_TIME: Duration = Duration::from_secs(10);
/// How often each kind of failure may be logged.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// The kinds of failure, each logged at most once a minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// No answer: connection refused or reset, DNS, TLS, timeout.
    Unreachable,
    /// An answer with an error status (HTTP non-2xx, a gRPC status).
    Status,
    /// An answer that is not a valid strategy (or is too large).
    Malformed,
}

impl Failure {
    fn cause(self) -> &'static str {
        match self {
            Failure::Unreachable => "jaeger-remote-unreachable",
            Failure::Status => "jaeger-remote-status",
            Failure::Malformed => "jaeger-remote-malformed",
        }
    }
}

/// The stop signal: a flag, and a notification that wakes the thread's wait at once.
#[derive(Default)]
struct Stop {
    flag: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Stop {
    fn signal(&self) {
        self.flag.store(true, Release);
        // A stored permit if the thread is not waiting yet: its next wait returns at once.
        self.notify.notify_one();
    }

    async fn wait(&self) {
        while !self.flag.load(Acquire) {
            self.notify.notified().await;
        }
    }
}

/// The running poller; dropping it asks the thread to stop without waiting.
pub(crate) struct Poller {
    stop: Arc<Stop>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Poller {
    /// Starts polling for `service` into `remote`.
    pub(crate) fn spawn(
        remote: Arc<RemoteSampler>,
        service: String,
        counters: Arc<Counters>,
    ) -> std::io::Result<Poller> {
        let stop = Arc::new(Stop::default());
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("polytrace-sampling".into())
            .spawn(move || {
                // Like every thread the core starts: a write to a closed connection fails
                // with EPIPE instead of ending a host that keeps SIGPIPE's default action.
                crate::export::quiet_sigpipe();
                // A bug here must not go unnoticed, nor take anything else down: the initial
                // (or last) strategy stays in force.
                let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run(&remote, &service, &counters, &thread_stop)
                }));
                if polled.is_err() {
                    crate::diag::emit(
                        crate::diag::Level::Error,
                        "jaeger_remote sampler: the polling thread failed (a bug); the \
                         strategy in force is kept",
                    );
                }
            })?;
        Ok(Poller {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it: it leaves at once, every wait of its races the
    /// stop signal.
    pub(crate) fn stop(mut self) {
        self.stop.signal();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.signal();
    }
}

fn run(remote: &RemoteSampler, service: &str, counters: &Counters, stop: &Stop) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_start(crate::export::quiet_sigpipe)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::diag::emit(
                crate::diag::Level::Error,
                &format!("cannot start the remote sampler's runtime, the initial sampling rate stays in force: {e}"),
            );
            return;
        }
    };
    let config = remote.config();
    let endpoint = config.endpoint.clone();
    let interval = config.polling_interval;
    runtime.block_on(async {
        let client = match Client::new(remote, service) {
            Ok(c) => c,
            Err(e) => {
                crate::diag::emit(
                    crate::diag::Level::Error,
                    &format!(
                        "jaeger_remote sampler: {e}; the initial sampling rate stays in force"
                    ),
                );
                return;
            }
        };
        loop {
            let fetched = tokio::select! {
                r = client.fetch() => r,
                () = stop.wait() => return,
            };
            match fetched {
                Ok(strategy) => {
                    counters.sampler_polls.0.fetch_add(1, Relaxed);
                    remote.update(strategy);
                }
                Err((kind, why)) => {
                    counters.sampler_poll_failures.0.fetch_add(1, Relaxed);
                    crate::diag::emit_every(
                        crate::diag::Level::Warn,
                        kind.cause(),
                        LOG_EVERY,
                        &format!(
                            "jaeger_remote sampler: cannot get the sampling strategy of service \
                             {service:?} from {endpoint}: {why}; the strategy in force is kept \
                             (failures are counted in stats().sampler_poll_failures; this kind \
                             is logged at most once a minute)"
                        ),
                    );
                }
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = stop.wait() => return,
            }
        }
    });
    // Bounded: a DNS lookup still running on a blocking thread must not hold up shutdown.
    runtime.shutdown_timeout(Duration::from_millis(100));
}

/// The configured transport, built once.
enum Client {
    Http {
        client: reqwest::Client,
        url: reqwest::Url,
    },
    Grpc {
        client: tonic::client::Grpc<tonic::transport::Channel>,
        request: Bytes,
    },
}

impl Client {
    /// Must run inside the runtime (the lazy gRPC channel spawns its worker there).
    fn new(remote: &RemoteSampler, service: &str) -> Result<Client, String> {
        let config = remote.config();
        let timeout = config
            .polling_interval
            .clamp(Duration::from_secs(1), MAX_FETCH_TIME);
        match config.transport() {
            RemoteTransport::Http => {
                install_crypto_provider();
                let mut url = reqwest::Url::parse(&config.endpoint)
                    .map_err(|e| format!("invalid endpoint {:?}: {e}", config.endpoint))?;
                url.query_pairs_mut().append_pair("service", service);
                let client = reqwest::Client::builder()
                    .timeout(timeout)
                    .user_agent(user_agent())
                    .build()
                    .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
                Ok(Client::Http { client, url })
            }
            RemoteTransport::Grpc => {
                let mut endpoint = tonic::transport::Endpoint::from_shared(config.endpoint.clone())
                    .map_err(|e| format!("invalid endpoint {:?}: {e}", config.endpoint))?
                    .connect_timeout(timeout)
                    .timeout(timeout);
                endpoint = endpoint
                    .user_agent(user_agent())
                    .map_err(|e| format!("invalid user agent: {e}"))?;
                if config.endpoint.starts_with("https://") {
                    endpoint = endpoint
                        .tls_config(tonic::transport::ClientTlsConfig::new().with_enabled_roots())
                        .map_err(|e| format!("invalid TLS configuration: {e}"))?;
                }
                Ok(Client::Grpc {
                    client: tonic::client::Grpc::new(endpoint.connect_lazy()),
                    request: Bytes::from(grpc_request(service)),
                })
            }
        }
    }

    async fn fetch(&self) -> Result<Strategy, (Failure, String)> {
        match self {
            Client::Http { client, url } => {
                let mut resp = client
                    .get(url.clone())
                    .header(http::header::ACCEPT, "application/json")
                    .send()
                    .await
                    .map_err(|e| (Failure::Unreachable, format!("HTTP request failed: {e}")))?;
                let status = resp.status();
                let mut body = Vec::new();
                while let Some(chunk) = resp.chunk().await.map_err(|e| {
                    (
                        Failure::Unreachable,
                        format!("reading the answer failed: {e}"),
                    )
                })? {
                    if body.len() + chunk.len() > MAX_BODY {
                        return Err((
                            Failure::Malformed,
                            format!("the answer is larger than {MAX_BODY} bytes"),
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                if !status.is_success() {
                    return Err((
                        Failure::Status,
                        format!(
                            "HTTP {status}: {}",
                            String::from_utf8_lossy(&body[..body.len().min(200)]).trim()
                        ),
                    ));
                }
                Strategy::from_json(&body).map_err(|e| (Failure::Malformed, e))
            }
            Client::Grpc { client, request } => {
                let mut grpc = client.clone();
                grpc.ready()
                    .await
                    .map_err(|e| (Failure::Unreachable, format!("gRPC channel not ready: {e}")))?;
                let path = http::uri::PathAndQuery::from_static(GRPC_PATH);
                let resp = grpc
                    .unary::<Bytes, Bytes, _>(tonic::Request::new(request.clone()), path, RawCodec)
                    .await
                    .map_err(|status| {
                        let kind = match status.code() {
                            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => {
                                Failure::Unreachable
                            }
                            _ => Failure::Status,
                        };
                        (
                            kind,
                            format!("gRPC {:?}: {}", status.code(), status.message()),
                        )
                    })?;
                let body = resp.into_inner();
                if body.len() > MAX_BODY {
                    return Err((
                        Failure::Malformed,
                        format!("the answer is larger than {MAX_BODY} bytes"),
                    ));
                }
                Strategy::from_proto(&body).map_err(|e| (Failure::Malformed, e))
            }
        }
    }
}
