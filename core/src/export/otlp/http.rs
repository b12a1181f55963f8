//! OTLP over HTTP: reqwest, protobuf (`application/x-protobuf`) or JSON (`application/json`),
//! optionally gzip-compressed.

use super::retry::{parse_retry_after, tls_failure, Attempt};
use super::{partial_success_proto, read_file, user_agent};
use crate::config::{Compression, OtlpConfig, Protocol};
use crate::error::{Error, Result};
use bytes::Bytes;

/// Makes *ring* rustls's process default when nothing installed one: reqwest is built without
/// a crypto provider of its own (`rustls-no-provider`), so the core compiles one TLS backend,
/// *ring*, which tonic uses too — not also aws-lc. A host that installed its own provider
/// keeps it (reqwest then uses that one).
pub(crate) fn install_crypto_provider() {
    // `Err`: a provider is installed already, which is all reqwest needs.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An HTTP client of the OTLP trace endpoint.
pub(super) struct HttpTransport {
    client: reqwest::Client,
    /// Parsed once: parsing (with IDNA host processing) per request cost the export thread
    /// more than the request's headers.
    url: reqwest::Url,
    /// Content type and the configured headers, exactly.
    headers: http::HeaderMap,
    pub(super) json: bool,
    pub(super) gzip: bool,
}

impl HttpTransport {
    pub(super) fn new(otlp: &OtlpConfig) -> Result<HttpTransport> {
        install_crypto_provider();
        let mut client = reqwest::Client::builder()
            .timeout(otlp.timeout)
            .user_agent(user_agent());
        if let Some(ca) = &otlp.certificate {
            let cert =
                reqwest::Certificate::from_pem(&read_file("certificate", ca)?).map_err(|e| {
                    Error::invalid_config(format!("invalid certificate '{}': {e}", ca.display()))
                })?;
            client = client.add_root_certificate(cert);
        }
        if let (Some(cert), Some(key)) = (&otlp.client_certificate, &otlp.client_key) {
            let mut pem = read_file("client certificate", cert)?;
            pem.push(b'\n');
            pem.extend(read_file("client key", key)?);
            let id = reqwest::Identity::from_pem(&pem).map_err(|e| {
                Error::invalid_config(format!("invalid client certificate/key: {e}"))
            })?;
            client = client.identity(id);
        }
        let client = client
            .build()
            .map_err(|e| Error::invalid_config(format!("cannot build the HTTP client: {e}")))?;
        let json = otlp.protocol == Protocol::HttpJson;
        let gzip = otlp.compression == Compression::Gzip;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(if json {
                "application/json"
            } else {
                "application/x-protobuf"
            }),
        );
        if gzip {
            headers.insert(
                http::header::CONTENT_ENCODING,
                http::HeaderValue::from_static("gzip"),
            );
        }
        for (k, v) in &otlp.headers {
            let name = http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::invalid_config(format!("invalid header name '{k}'")))?;
            let value = http::HeaderValue::from_str(v)
                .map_err(|_| Error::invalid_config(format!("invalid value for header '{k}'")))?;
            headers.insert(name, value);
        }
        let url = reqwest::Url::parse(&otlp.endpoint).map_err(|e| {
            Error::invalid_config(format!("invalid OTLP endpoint '{}': {e}", otlp.endpoint))
        })?;
        Ok(HttpTransport {
            client,
            url,
            headers,
            json,
            gzip,
        })
    }

    /// One attempt to deliver `body`.
    pub(super) async fn attempt(&self, body: Bytes) -> Attempt {
        let HttpTransport {
            client,
            url,
            headers,
            json,
            ..
        } = self;
        let resp = match client
            .post(url.clone())
            .headers(headers.clone())
            .body(body)
            .send()
            .await
        {
            Ok(r) => r,
            // A certificate or handshake rejection will not mend by retrying.
            // Connection refused or reset, timeout: retryable until the export timeout.
            Err(e) => {
                if let Some(failed) = tls_failure(&e) {
                    return failed;
                }
                return Attempt::Retry {
                    after: None,
                    why: format!("HTTP request failed: {e}"),
                    answered: false,
                };
            }
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = resp.bytes().await.unwrap_or_default();
        if status.is_success() {
            let (rejected, message) = if *json {
                partial_success_json(&body)
            } else {
                partial_success_proto(&body)
            };
            return Attempt::Accepted { rejected, message };
        }
        let why = format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
        match status.as_u16() {
            429 | 502 | 503 | 504 => Attempt::Retry {
                after: retry_after,
                why,
                answered: true,
            },
            _ => Attempt::Fail(why),
        }
    }
}

/// The `partialSuccess` of an `ExportTraceServiceResponse` (OTLP JSON; int64 may be a string).
pub(super) fn partial_success_json(body: &[u8]) -> (u64, String) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (0, String::new());
    };
    let Some(p) = v.get("partialSuccess").or_else(|| v.get("partial_success")) else {
        return (0, String::new());
    };
    let rejected = p
        .get("rejectedSpans")
        .or_else(|| p.get("rejected_spans"))
        .and_then(|r| {
            r.as_u64()
                .or_else(|| r.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(0);
    let message = p
        .get("errorMessage")
        .or_else(|| p.get("error_message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string();
    (rejected, message)
}

pub(super) fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    enc.write_all(body)?;
    enc.finish()
}
