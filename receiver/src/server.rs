//! The listeners and the request handling, on hyper.
//!
//! gRPC is served directly on hyper's HTTP/2 rather than through a tonic
//! service, so that `count_only` mode can count spans on the raw protobuf bytes
//! and faults can be answered before the body is read. Each listener serves
//! both protocols (routing by `content-type` and path); the two addresses
//! exist because OTLP clients expect them.

use std::convert::Infallible;
use std::io::{self, Read as _};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut as _, Bytes, BytesMut};
use flate2::read::MultiGzDecoder;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt as _};

use crate::{count_spans, wire, ReceivedRequest, Shared, Transport};

/// The unary method of `opentelemetry.proto.collector.trace.v1.TraceService`.
const GRPC_EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// The OTLP/HTTP traces path.
const HTTP_TRACES_PATH: &str = "/v1/traces";
/// Largest accepted body, compressed or not (the Collector's default is 20 MiB
/// for gRPC; benchmarks may send more).
const MAX_BODY: usize = 64 << 20;
/// How long in-flight requests may take to finish on shutdown.
const GRACE: Duration = Duration::from_millis(1000);
/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The running servers: a private runtime and its listener tasks.
pub(crate) struct Servers {
    pub(crate) grpc_addr: Option<SocketAddr>,
    pub(crate) http_addr: Option<SocketAddr>,
    runtime: tokio::runtime::Runtime,
    stop_tx: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

fn bind(addr: Option<SocketAddr>) -> io::Result<Option<(std::net::TcpListener, SocketAddr)>> {
    addr.map(|addr| {
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot bind {addr}: {e}")))?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        Ok((listener, local))
    })
    .transpose()
}

impl Servers {
    pub(crate) fn start(
        shared: Arc<Shared>,
        grpc: Option<SocketAddr>,
        http: Option<SocketAddr>,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> io::Result<Servers> {
        // Bind first, so a busy port fails before any thread is started.
        let grpc = bind(grpc)?;
        let http = bind(http)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("polytrace-receiver")
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let acceptor = tls.map(TlsAcceptor::from);
        let mut servers = Servers {
            grpc_addr: grpc.as_ref().map(|(_, a)| *a),
            http_addr: http.as_ref().map(|(_, a)| *a),
            runtime,
            stop_tx,
            tasks: Vec::new(),
        };
        for (listener, _) in grpc.into_iter().chain(http) {
            let listener = {
                let _enter = servers.runtime.enter();
                TcpListener::from_std(listener)
            };
            let listener = match listener {
                Ok(l) => l,
                Err(e) => {
                    servers.stop();
                    return Err(e);
                }
            };
            let task = servers.runtime.spawn(accept_loop(
                listener,
                acceptor.clone(),
                Arc::clone(&shared),
                stop_rx.clone(),
            ));
            servers.tasks.push(task);
        }
        Ok(servers)
    }

    /// Stops accepting, gives open connections [`GRACE`] to finish, then tears
    /// the runtime down. Runs on a helper thread so that it also works when
    /// called (or dropped) inside some other tokio runtime, where blocking on
    /// or dropping a runtime would panic.
    pub(crate) fn stop(self) {
        let Servers {
            runtime,
            stop_tx,
            tasks,
            ..
        } = self;
        let _ = stop_tx.send(true);
        let stopper = std::thread::Builder::new()
            .name("polytrace-receiver-stop".into())
            .spawn(move || {
                runtime.block_on(async {
                    let all = async {
                        for task in tasks {
                            let _ = task.await;
                        }
                    };
                    let _ = tokio::time::timeout(GRACE + Duration::from_millis(500), all).await;
                });
                runtime.shutdown_timeout(Duration::from_millis(500));
            });
        // Without a thread to be had, the runtime was dropped with the
        // closure, which stops everything too.
        if let Ok(handle) = stopper {
            let _ = handle.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Large batches: don't let the 64 KiB default windows throttle benchmarks.
    builder
        .http2()
        .initial_stream_window_size(4 << 20)
        .initial_connection_window_size(8 << 20)
        .max_frame_size(1 << 20);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(
                        stream,
                        acceptor.clone(),
                        builder.clone(),
                        Arc::clone(&shared),
                        graceful.watcher(),
                    ));
                }
                // Out of descriptors or the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
}

async fn connection(
    stream: TcpStream,
    acceptor: Option<TlsAcceptor>,
    builder: auto::Builder<TokioExecutor>,
    shared: Arc<Shared>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(handle(req, &shared).await) }
    });
    match acceptor {
        None => {
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let _ = watcher.watch(conn).await;
        }
        Some(acceptor) => {
            // A failed handshake (e.g. no client certificate under mTLS) just
            // closes the connection; the client sees the TLS alert.
            let Ok(Ok(tls)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            else {
                return;
            };
            let conn = builder.serve_connection(TokioIo::new(tls), service);
            let _ = watcher.watch(conn).await;
        }
    }
}

/// A response body of at most one data frame and one trailers frame: all the
/// receiver ever sends.
#[derive(Default)]
pub(crate) struct ReplyBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl ReplyBody {
    fn data(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        ReplyBody {
            data: (!bytes.is_empty()).then_some(bytes),
            trailers: None,
        }
    }
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if let Some(trailers) = this.trailers.take() {
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.data, &self.trailers) {
            (data, None) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            _ => SizeHint::default(),
        }
    }
}

fn response(
    status: StatusCode,
    content_type: &'static str,
    body: ReplyBody,
) -> Response<ReplyBody> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn headers_of(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The media type of a request, lowercase, parameters dropped.
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

async fn read_body(body: Incoming) -> Result<Bytes, String> {
    Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|e| format!("reading body: {e}"))
}

fn gunzip(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(MAX_BODY));
    MultiGzDecoder::new(data)
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("invalid gzip: {e}"))?;
    if out.len() > MAX_BODY {
        return Err(format!("decompressed body exceeds {MAX_BODY} bytes"));
    }
    Ok(out)
}

/// A decoded (or, in `count_only` mode, only counted) payload.
struct Payload {
    spans: u64,
    request: Option<ExportTraceServiceRequest>,
}

fn decode(shared: &Shared, transport: Transport, bytes: &[u8]) -> Result<Payload, String> {
    match transport {
        Transport::Grpc | Transport::HttpProtobuf if shared.count_only => wire::count_spans(bytes)
            .map(|spans| Payload {
                spans,
                request: None,
            })
            .ok_or_else(|| "invalid protobuf ExportTraceServiceRequest".to_string()),
        Transport::Grpc | Transport::HttpProtobuf => ExportTraceServiceRequest::decode(bytes)
            .map_err(|e| format!("invalid protobuf ExportTraceServiceRequest: {e}"))
            .map(|request| Payload {
                spans: count_spans(&request),
                request: Some(request),
            }),
        Transport::HttpJson => crate::request_from_json(bytes)
            .map_err(|e| e.to_string())
            .map(|request| Payload {
                spans: count_spans(&request),
                request: (!shared.count_only).then_some(request),
            }),
    }
}

fn record(
    shared: &Shared,
    transport: Transport,
    headers: &HeaderMap,
    compressed: bool,
    p: Payload,
) {
    let received = p.request.map(|request| ReceivedRequest {
        transport,
        headers: headers_of(headers),
        compressed,
        request,
    });
    shared.accept(p.spans, received);
}

async fn handle(req: Request<Incoming>, shared: &Shared) -> Response<ReplyBody> {
    if media_type(req.headers()).starts_with("application/grpc") {
        return grpc(req, shared).await;
    }
    if req.uri().path() != HTTP_TRACES_PATH {
        return response(
            StatusCode::NOT_FOUND,
            "text/plain",
            ReplyBody::data("not found: OTLP traces are POSTed to /v1/traces\n"),
        );
    }
    if req.method() != Method::POST {
        let mut resp = response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            ReplyBody::data("use POST\n"),
        );
        resp.headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    http_export(req, shared).await
}

// ---------------------------------------------------------------- OTLP/HTTP

/// An OTLP/HTTP error: a `google.rpc.Status` body in the request's encoding.
fn http_error(
    transport: Transport,
    status: StatusCode,
    code: Code,
    message: &str,
) -> Response<ReplyBody> {
    if transport == Transport::HttpJson {
        let body = serde_json::json!({ "code": code as i32, "message": message }).to_string();
        response(status, "application/json", ReplyBody::data(body))
    } else {
        let body = tonic_types::Status {
            code: code as i32,
            message: message.to_string(),
            details: Vec::new(),
        }
        .encode_to_vec();
        response(status, "application/x-protobuf", ReplyBody::data(body))
    }
}

async fn http_export(req: Request<Incoming>, shared: &Shared) -> Response<ReplyBody> {
    let (parts, body) = req.into_parts();
    let transport = match media_type(&parts.headers).as_str() {
        "application/x-protobuf" | "application/protobuf" => Transport::HttpProtobuf,
        "application/json" => Transport::HttpJson,
        other => {
            return response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "text/plain",
                ReplyBody::data(format!(
                    "unsupported content-type {other:?}: use application/x-protobuf or application/json\n"
                )),
            )
        }
    };
    if shared.admit() {
        let faults = &shared.faults;
        let status =
            StatusCode::from_u16(faults.http_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut resp = http_error(transport, status, Code::Unavailable, "injected fault");
        if let Some(delay) = faults.retry_after {
            let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            resp.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        return resp;
    }
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(e) => {
            return http_error(
                transport,
                StatusCode::BAD_REQUEST,
                Code::InvalidArgument,
                &e,
            )
        }
    };
    let encoding = parts.headers.get(CONTENT_ENCODING).map(|v| {
        String::from_utf8_lossy(v.as_bytes())
            .trim()
            .to_ascii_lowercase()
    });
    let compressed = match encoding.as_deref() {
        None | Some("") | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            return http_error(
                transport,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::InvalidArgument,
                &format!("unsupported content-encoding {other:?}: only gzip"),
            )
        }
    };
    let decompressed;
    let bytes: &[u8] = if compressed {
        match gunzip(&body) {
            Ok(d) => {
                decompressed = d;
                &decompressed
            }
            Err(e) => {
                return http_error(
                    transport,
                    StatusCode::BAD_REQUEST,
                    Code::InvalidArgument,
                    &e,
                )
            }
        }
    } else {
        &body
    };
    let payload = match decode(shared, transport, bytes) {
        Ok(p) => p,
        Err(e) => {
            return http_error(
                transport,
                StatusCode::BAD_REQUEST,
                Code::InvalidArgument,
                &e,
            )
        }
    };
    record(shared, transport, &parts.headers, compressed, payload);
    if transport == Transport::HttpJson {
        // ExportTraceServiceResponse with no partial_success.
        response(StatusCode::OK, "application/json", ReplyBody::data("{}"))
    } else {
        let body = ExportTraceServiceResponse::default().encode_to_vec();
        response(
            StatusCode::OK,
            "application/x-protobuf",
            ReplyBody::data(body),
        )
    }
}

// --------------------------------------------------------------------- gRPC

/// A Trailers-Only gRPC error response.
fn grpc_error(status: tonic::Status) -> Response<ReplyBody> {
    let mut resp = response(StatusCode::OK, "application/grpc", ReplyBody::default());
    if status.add_header(resp.headers_mut()).is_err() {
        // Only a message that can't be a header value gets here; drop it.
        let plain = tonic::Status::new(status.code(), "");
        let _ = plain.add_header(resp.headers_mut());
    }
    resp
}

async fn grpc(req: Request<Incoming>, shared: &Shared) -> Response<ReplyBody> {
    if req.uri().path() != GRPC_EXPORT_PATH {
        return grpc_error(tonic::Status::unimplemented(format!(
            "unknown method {}",
            req.uri().path()
        )));
    }
    if shared.admit() {
        let faults = &shared.faults;
        let status = match faults.retry_after {
            Some(delay) => tonic::Status::with_error_details(
                faults.grpc_code,
                "injected fault",
                ErrorDetails::with_retry_info(Some(delay)),
            ),
            None => tonic::Status::new(faults.grpc_code, "injected fault"),
        };
        return grpc_error(status);
    }
    let (parts, body) = req.into_parts();
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(e) => return grpc_error(tonic::Status::resource_exhausted(e)),
    };
    // One length-prefixed message: flag byte, u32 big-endian length, payload.
    let message = match body.get(..5) {
        Some(&[flag, a, b, c, d]) => {
            let len = u32::from_be_bytes([a, b, c, d]) as usize;
            body.get(5..)
                .filter(|rest| rest.len() == len)
                .map(|rest| (flag, rest))
        }
        _ => None,
    };
    let Some((flag, message)) = message else {
        return grpc_error(tonic::Status::internal(
            "expected exactly one length-prefixed request message",
        ));
    };
    let compressed = flag & 1 == 1;
    let decompressed;
    let bytes: &[u8] = if compressed {
        let encoding = parts
            .headers
            .get("grpc-encoding")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase());
        if encoding.as_deref() != Some("gzip") {
            return grpc_error(tonic::Status::unimplemented(format!(
                "unsupported grpc-encoding {encoding:?}: only gzip"
            )));
        }
        match gunzip(message) {
            Ok(d) => {
                decompressed = d;
                &decompressed
            }
            Err(e) => return grpc_error(tonic::Status::internal(e)),
        }
    } else {
        message
    };
    let payload = match decode(shared, Transport::Grpc, bytes) {
        Ok(p) => p,
        Err(e) => return grpc_error(tonic::Status::invalid_argument(e)),
    };
    record(shared, Transport::Grpc, &parts.headers, compressed, payload);

    let reply = ExportTraceServiceResponse::default().encode_to_vec();
    let mut frame = BytesMut::with_capacity(5 + reply.len());
    frame.put_u8(0);
    frame.put_u32(reply.len() as u32);
    frame.put_slice(&reply);
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let mut resp = response(
        StatusCode::OK,
        "application/grpc",
        ReplyBody {
            data: Some(frame.freeze()),
            trailers: Some(trailers),
        },
    );
    resp.headers_mut().insert(
        "grpc-accept-encoding",
        HeaderValue::from_static("gzip,identity"),
    );
    resp
}
