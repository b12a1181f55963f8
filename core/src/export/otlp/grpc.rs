//! OTLP over gRPC: tonic with a pass-through codec (the request is already protobuf bytes).

use super::retry::{tls_failure, Attempt};
use super::{partial_success_proto, read_file, user_agent};
use crate::config::{Compression, OtlpConfig};
use crate::error::{Error, Result};
use bytes::Bytes;

/// The gRPC method of the OTLP trace service.
const GRPC_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// A tonic codec that sends already-encoded message bytes and hands back the response's
/// bytes undecoded (also the remote sampler's, whose messages prost encodes and decodes).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }
    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> std::result::Result<(), tonic::Status> {
        use bytes::BufMut as _;
        dst.put(item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> std::result::Result<Option<Bytes>, tonic::Status> {
        use bytes::Buf as _;
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n)))
    }
}

/// A gRPC client of the OTLP trace service.
pub(super) struct GrpcTransport {
    client: tonic::client::Grpc<tonic::transport::Channel>,
    metadata: tonic::metadata::MetadataMap,
}

impl GrpcTransport {
    /// Must run inside the runtime (the lazy channel spawns its worker there).
    pub(super) fn new(otlp: &OtlpConfig) -> Result<GrpcTransport> {
        let mut metadata = tonic::metadata::MetadataMap::new();
        for (k, v) in &otlp.headers {
            let key = tonic::metadata::MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
                .map_err(|_| Error::invalid_config(format!("invalid header name '{k}'")))?;
            let val = tonic::metadata::MetadataValue::try_from(v.as_str())
                .map_err(|_| Error::invalid_config(format!("invalid value for header '{k}'")))?;
            metadata.insert(key, val);
        }
        let url = grpc_endpoint(otlp);
        let mut endpoint = tonic::transport::Endpoint::from_shared(url.clone())
            .map_err(|e| Error::invalid_config(format!("invalid OTLP endpoint '{url}': {e}")))?
            .connect_timeout(otlp.timeout)
            .user_agent(user_agent())
            .map_err(|e| Error::internal(format!("invalid user agent: {e}")))?;
        if url.starts_with("https://")
            || otlp.certificate.is_some()
            || otlp.client_certificate.is_some()
        {
            let mut tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
            if let Some(ca) = &otlp.certificate {
                tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(read_file(
                    "certificate",
                    ca,
                )?));
            }
            if let (Some(cert), Some(key)) = (&otlp.client_certificate, &otlp.client_key) {
                tls = tls.identity(tonic::transport::Identity::from_pem(
                    read_file("client certificate", cert)?,
                    read_file("client key", key)?,
                ));
            }
            if let Some(host) = host_of(&url) {
                tls = tls.domain_name(host);
            }
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| Error::invalid_config(format!("invalid TLS configuration: {e}")))?;
        }
        let mut client = tonic::client::Grpc::new(endpoint.connect_lazy());
        if otlp.compression == Compression::Gzip {
            client = client.send_compressed(tonic::codec::CompressionEncoding::Gzip);
        }
        Ok(GrpcTransport { client, metadata })
    }

    /// One attempt to deliver `body`.
    pub(super) async fn attempt(&self, body: Bytes) -> Attempt {
        let (client, metadata) = (&self.client, &self.metadata);
        let mut grpc = client.clone();
        if let Err(e) = grpc.ready().await {
            if let Some(failed) = tls_failure(&e) {
                return failed;
            }
            return Attempt::Retry {
                after: None,
                why: format!("gRPC channel not ready: {e}"),
                answered: false,
            };
        }
        let mut req = tonic::Request::new(body);
        *req.metadata_mut() = metadata.clone();
        let path = http::uri::PathAndQuery::from_static(GRPC_PATH);
        match grpc.unary::<Bytes, Bytes, _>(req, path, RawCodec).await {
            Ok(resp) => {
                let (rejected, message) = partial_success_proto(resp.get_ref());
                Attempt::Accepted { rejected, message }
            }
            Err(status) => classify_grpc(&status),
        }
    }
}

/// The gRPC codes the OTLP specification calls retryable (RESOURCE_EXHAUSTED only when the
/// server sent a RetryInfo saying when).
fn classify_grpc(status: &tonic::Status) -> Attempt {
    use tonic::Code;
    use tonic_types::StatusExt as _;
    if let Some(failed) = tls_failure(status) {
        return failed;
    }
    let delay = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay);
    let why = format!("gRPC {:?}: {}", status.code(), status.message());
    // A status made on this side from a transport error (refused, reset, TLS, timeout) carries
    // that error as its source; one the server sent does not.
    let answered = std::error::Error::source(status).is_none();
    match status.code() {
        Code::Unavailable
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::DataLoss => Attempt::Retry {
            after: delay,
            why,
            answered,
        },
        Code::ResourceExhausted if delay.is_some() => Attempt::Retry {
            after: delay,
            why,
            answered,
        },
        _ => Attempt::Fail(why),
    }
}

fn grpc_endpoint(otlp: &OtlpConfig) -> String {
    if otlp.endpoint.contains("://") {
        otlp.endpoint.clone()
    } else if otlp.insecure {
        format!("http://{}", otlp.endpoint)
    } else {
        format!("https://{}", otlp.endpoint)
    }
}

/// The host of a URL, for TLS name checks.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = if let Some(stripped) = authority.strip_prefix('[') {
        stripped.split(']').next()?
    } else {
        authority
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(authority)
    };
    Some(host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn host_parsing() {
        assert_eq!(
            host_of("https://localhost:4317").as_deref(),
            Some("localhost")
        );
        assert_eq!(host_of("https://[::1]:4317/x").as_deref(), Some("::1"));
        assert_eq!(
            host_of("https://example.test").as_deref(),
            Some("example.test")
        );
    }

    #[test]
    fn grpc_codes_per_the_otlp_spec() {
        use tonic::Code;
        for code in [
            Code::Unavailable,
            Code::Cancelled,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::DataLoss,
        ] {
            assert!(
                matches!(
                    classify_grpc(&tonic::Status::new(code, "x")),
                    Attempt::Retry { after: None, .. }
                ),
                "{code:?}"
            );
        }
        for code in [
            Code::ResourceExhausted,
            Code::InvalidArgument,
            Code::Unauthenticated,
            Code::PermissionDenied,
            Code::Internal,
            Code::Unknown,
        ] {
            assert!(
                matches!(
                    classify_grpc(&tonic::Status::new(code, "x")),
                    Attempt::Fail(_)
                ),
                "{code:?}"
            );
        }
        use tonic_types::{ErrorDetails, StatusExt as _};
        let throttled = tonic::Status::with_error_details(
            Code::ResourceExhausted,
            "slow down",
            ErrorDetails::with_retry_info(Some(Duration::from_millis(1500))),
        );
        assert_eq!(
            classify_grpc(&throttled),
            Attempt::Retry {
                after: Some(Duration::from_millis(1500)),
                why: "gRPC ResourceExhausted: slow down".into(),
                answered: true,
            }
        );
    }
}
