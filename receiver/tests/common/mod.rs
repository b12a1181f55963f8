//! Clients and fixtures for the receiver tests: certificates made with rcgen,
//! a tonic gRPC client, a hyper HTTP/1.1 client (plain or TLS).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "pki.rs"]
mod pki_impl;
pub use pki_impl::{pki, Pki};

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use flate2::write::GzEncoder;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        key_strindex: 0,
    }
}

/// A request with `spans` spans of one trace under service `svc`.
pub fn sample_request(svc: &str, spans: usize) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", svc)],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: (0..spans)
                    .map(|i| Span {
                        trace_id: vec![0x4b; 16],
                        span_id: vec![i as u8 + 1; 8],
                        parent_span_id: if i == 0 { vec![] } else { vec![1; 8] },
                        name: format!("op-{i}"),
                        kind: 2,
                        start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64 * 1000,
                        end_time_unix_nano: 1_700_000_000_000_500_000,
                        attributes: vec![kv("i", &i.to_string())],
                        status: Some(Status {
                            message: String::new(),
                            code: 0,
                        }),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Client-side TLS material.
#[derive(Clone)]
pub struct ClientTls {
    pub ca_pem: String,
    pub identity: Option<(String, String)>,
}

pub async fn grpc_client(
    endpoint: &str,
    tls: Option<&ClientTls>,
) -> Result<TraceServiceClient<Channel>, tonic::transport::Error> {
    let mut ep = Endpoint::from_shared(endpoint.to_string())?.timeout(Duration::from_secs(10));
    if let Some(tls) = tls {
        let mut cfg = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&tls.ca_pem))
            .domain_name("localhost");
        if let Some((cert, key)) = &tls.identity {
            cfg = cfg.identity(Identity::from_pem(cert, key));
        }
        ep = ep.tls_config(cfg)?;
    }
    Ok(TraceServiceClient::new(ep.connect().await?))
}

/// A response from [`http_post`].
pub struct HttpReply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// One HTTP/1.1 request on a fresh connection (TLS if `tls` is set).
pub async fn http_request(
    addr: std::net::SocketAddr,
    tls: Option<&ClientTls>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> std::io::Result<HttpReply> {
    let io_err = |e: &dyn std::fmt::Display| std::io::Error::other(e.to_string());
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body))).unwrap();
    let resp = match tls {
        None => {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                .await
                .map_err(|e| io_err(&e))?;
            tokio::spawn(conn);
            sender.send_request(req).await.map_err(|e| io_err(&e))?
        }
        Some(tls) => {
            let stream = tls_connect(tcp, tls).await?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| io_err(&e))?;
            tokio::spawn(conn);
            sender.send_request(req).await.map_err(|e| io_err(&e))?
        }
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| io_err(&e))?
        .to_bytes();
    Ok(HttpReply {
        status,
        headers,
        body,
    })
}

pub async fn http_post(
    addr: std::net::SocketAddr,
    tls: Option<&ClientTls>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> std::io::Result<HttpReply> {
    http_request(addr, tls, "POST", "/v1/traces", headers, body).await
}

async fn tls_connect(
    tcp: tokio::net::TcpStream,
    tls: &ClientTls,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(tls.ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match &tls.identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .map(|c| c.unwrap())
                    .collect(),
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from("localhost").unwrap();
    // With TLS 1.3 a rejected client certificate only shows up on the first
    // read, i.e. when the response is awaited.
    connector.connect(name, tcp).await
}
