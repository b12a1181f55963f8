//! The receiver against real clients: tonic for gRPC, hyper for OTLP/HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use polytrace_receiver::{
    request_from_json, request_to_json_line, Code, Faults, ReceivedRequest, Receiver,
    ReceiverConfig, TlsConfig, Transport,
};
use prost::Message as _;
use tonic::codec::CompressionEncoding;
use tonic_types::StatusExt as _;

const WAIT: Duration = Duration::from_secs(10);

fn grpc_export(
    endpoint: &str,
    tls: Option<&ClientTls>,
    gzip: bool,
    req: ExportTraceServiceRequest,
) -> Result<ExportTraceServiceResponse, tonic::Status> {
    runtime().block_on(async {
        let mut client = grpc_client(endpoint, tls)
            .await
            .map_err(|e| tonic::Status::unavailable(format!("connect: {e:?}")))?;
        if gzip {
            client = client.send_compressed(CompressionEncoding::Gzip);
        }
        let mut request = tonic::Request::new(req);
        request
            .metadata_mut()
            .insert("x-api-key", "secret".parse().unwrap());
        client.export(request).await.map(|r| r.into_inner())
    })
}

fn post(
    receiver: &Receiver,
    tls: Option<&ClientTls>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> std::io::Result<HttpReply> {
    let addr = receiver.http_addr().unwrap();
    runtime().block_on(http_post(addr, tls, headers, body))
}

#[test]
fn grpc_export_is_recorded_with_metadata() {
    let receiver = Receiver::start(ReceiverConfig::grpc()).unwrap();
    let endpoint = receiver.grpc_endpoint().unwrap();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    assert_eq!(receiver.http_endpoint(), None);

    let sent = sample_request("orders", 3);
    let resp = grpc_export(&endpoint, None, false, sent.clone()).unwrap();
    assert_eq!(resp, ExportTraceServiceResponse::default());

    assert!(receiver.wait_for_spans(3, WAIT));
    assert_eq!(receiver.span_count(), 3);
    assert_eq!(receiver.request_count(), 1);
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].transport, Transport::Grpc);
    assert!(!got[0].compressed);
    assert_eq!(got[0].request, sent);
    assert_eq!(got[0].header("x-api-key"), Some("secret"));
    assert_eq!(got[0].header("content-type"), Some("application/grpc"));
    assert!(got[0]
        .headers
        .iter()
        .all(|(k, _)| *k == k.to_ascii_lowercase()));
    receiver.shutdown();
}

#[test]
fn grpc_gzip() {
    let receiver = Receiver::start(ReceiverConfig::grpc()).unwrap();
    let sent = sample_request("orders", 5);
    grpc_export(&receiver.grpc_endpoint().unwrap(), None, true, sent.clone()).unwrap();
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    assert!(got[0].compressed);
    assert_eq!(got[0].header("grpc-encoding"), Some("gzip"));
    assert_eq!(got[0].request, sent);
}

#[test]
fn http_protobuf_and_json_plain_and_gzip() {
    let receiver = Receiver::start(ReceiverConfig::http()).unwrap();
    let endpoint = receiver.http_endpoint().unwrap();
    assert!(
        endpoint.starts_with("http://127.0.0.1:") && endpoint.ends_with("/v1/traces"),
        "{endpoint}"
    );
    let sent = sample_request("gateway", 2);
    let proto = sent.encode_to_vec();
    let json = request_to_json_line(&sent).into_bytes();

    let cases: [(&str, bool, Vec<u8>, Transport); 4] = [
        (
            "application/x-protobuf",
            false,
            proto.clone(),
            Transport::HttpProtobuf,
        ),
        (
            "application/x-protobuf",
            true,
            gzip(&proto),
            Transport::HttpProtobuf,
        ),
        ("application/json", false, json.clone(), Transport::HttpJson),
        (
            "application/json; charset=utf-8",
            true,
            gzip(&json),
            Transport::HttpJson,
        ),
    ];
    for (i, (ct, compressed, body, transport)) in cases.into_iter().enumerate() {
        let mut headers = vec![("content-type", ct), ("authorization", "Bearer t")];
        if compressed {
            headers.push(("content-encoding", "gzip"));
        }
        let reply = post(&receiver, None, &headers, body).unwrap();
        assert_eq!(reply.status, 200, "case {i}: {:?}", reply.body);
        let reply_ct = reply.headers["content-type"].to_str().unwrap().to_string();
        if transport == Transport::HttpJson {
            assert_eq!(reply_ct, "application/json");
            assert_eq!(&reply.body[..], b"{}");
        } else {
            assert_eq!(reply_ct, "application/x-protobuf");
            assert_eq!(
                ExportTraceServiceResponse::decode(reply.body).unwrap(),
                ExportTraceServiceResponse::default()
            );
        }
        let got = receiver.requests();
        let last: &ReceivedRequest = got.last().unwrap();
        assert_eq!(got.len(), i + 1);
        assert_eq!(last.transport, transport, "case {i}");
        assert_eq!(last.compressed, compressed, "case {i}");
        assert_eq!(last.request, sent, "case {i}");
        assert_eq!(last.header("authorization"), Some("Bearer t"));
    }
    assert_eq!(receiver.span_count(), 8);
}

#[test]
fn http_json_accepts_numbers_for_64_bit_fields() {
    let receiver = Receiver::start(ReceiverConfig::http()).unwrap();
    let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{
        "traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"0102030405060708",
        "name":"n","kind":1,"startTimeUnixNano":1000,"endTimeUnixNano":"2000",
        "attributes":[{"key":"k","value":{"intValue":5}}]}]}]}]}"#;
    let reply = post(
        &receiver,
        None,
        &[("content-type", "application/json")],
        body.to_vec(),
    )
    .unwrap();
    assert_eq!(reply.status, 200);
    let span = receiver.requests()[0].request.resource_spans[0].scope_spans[0].spans[0].clone();
    assert_eq!(span.start_time_unix_nano, 1000);
    assert_eq!(span.end_time_unix_nano, 2000);
    assert_eq!(span.trace_id, (1u8..=16).collect::<Vec<_>>());
}

#[test]
fn http_rejects_bad_requests() {
    let receiver = Receiver::start(ReceiverConfig::http()).unwrap();
    let addr = receiver.http_addr().unwrap();
    let rt = runtime();
    let req = |method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]| {
        rt.block_on(http_request(
            addr,
            None,
            method,
            path,
            headers,
            body.to_vec(),
        ))
        .unwrap()
    };
    let proto = [("content-type", "application/x-protobuf")];
    assert_eq!(req("POST", "/v1/metrics", &proto, b"").status, 404);
    assert_eq!(req("GET", "/v1/traces", &[], b"").status, 405);
    assert_eq!(
        req(
            "POST",
            "/v1/traces",
            &[("content-type", "text/plain")],
            b"x"
        )
        .status,
        415
    );

    let bad = req("POST", "/v1/traces", &proto, b"\xff\xff\xff");
    assert_eq!(bad.status, 400);
    let status = tonic_types::Status::decode(bad.body).unwrap();
    assert_eq!(status.code, Code::InvalidArgument as i32);
    assert!(status.message.contains("protobuf"), "{}", status.message);

    let json = [("content-type", "application/json")];
    let bad = req(
        "POST",
        "/v1/traces",
        &json,
        br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}"#,
    );
    assert_eq!(bad.status, 400);
    let msg: serde_json::Value = serde_json::from_slice(&bad.body).unwrap();
    assert!(
        msg["message"].as_str().unwrap().contains("traceId"),
        "{msg}"
    );

    let gz = [
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
    ];
    assert_eq!(req("POST", "/v1/traces", &gz, b"not gzip").status, 400);
    let br = [
        ("content-type", "application/json"),
        ("content-encoding", "br"),
    ];
    assert_eq!(req("POST", "/v1/traces", &br, b"{}").status, 415);

    assert_eq!(receiver.span_count(), 0);
    assert!(receiver.requests().is_empty());
    assert_eq!(receiver.request_count(), 4, "export attempts are counted");
}

fn tls_receiver(mtls: bool) -> (Receiver, Pki) {
    let pki = pki();
    let mut tls = TlsConfig::new(pki.server_cert_pem.clone(), pki.server_key_pem.clone());
    if mtls {
        tls = tls.with_client_ca(pki.ca_pem.clone());
    }
    let receiver = Receiver::start(ReceiverConfig::grpc_and_http().with_tls(tls)).unwrap();
    (receiver, pki)
}

#[test]
fn tls_both_transports() {
    let (receiver, pki) = tls_receiver(false);
    let grpc = receiver.grpc_endpoint().unwrap();
    assert!(grpc.starts_with("https://127.0.0.1:"), "{grpc}");
    assert!(receiver.http_endpoint().unwrap().starts_with("https://"));
    let client = ClientTls {
        ca_pem: pki.ca_pem.clone(),
        identity: None,
    };
    grpc_export(&grpc, Some(&client), false, sample_request("a", 1)).unwrap();
    let reply = post(
        &receiver,
        Some(&client),
        &[("content-type", "application/x-protobuf")],
        sample_request("b", 2).encode_to_vec(),
    )
    .unwrap();
    assert_eq!(reply.status, 200);
    assert!(receiver.wait_for_spans(3, WAIT));

    // A plain-text client can't talk to a TLS server.
    assert!(grpc_export(
        &grpc.replace("https", "http"),
        None,
        false,
        sample_request("c", 1)
    )
    .is_err());
    assert_eq!(receiver.span_count(), 3);
}

#[test]
fn mtls_requires_a_client_certificate() {
    let (receiver, pki) = tls_receiver(true);
    let grpc = receiver.grpc_endpoint().unwrap();
    let with_cert = ClientTls {
        ca_pem: pki.ca_pem.clone(),
        identity: Some((pki.client_cert_pem.clone(), pki.client_key_pem.clone())),
    };
    let without_cert = ClientTls {
        ca_pem: pki.ca_pem.clone(),
        identity: None,
    };
    let proto = [("content-type", "application/x-protobuf")];

    grpc_export(&grpc, Some(&with_cert), false, sample_request("a", 1)).unwrap();
    let reply = post(
        &receiver,
        Some(&with_cert),
        &proto,
        sample_request("b", 1).encode_to_vec(),
    )
    .unwrap();
    assert_eq!(reply.status, 200);

    assert!(grpc_export(&grpc, Some(&without_cert), false, sample_request("c", 1)).is_err());
    assert!(post(
        &receiver,
        Some(&without_cert),
        &proto,
        sample_request("d", 1).encode_to_vec()
    )
    .is_err());

    // The server's own certificate is no client certificate either (wrong EKU).
    let server_as_client = ClientTls {
        ca_pem: pki.ca_pem.clone(),
        identity: Some((pki.server_cert_pem.clone(), pki.server_key_pem.clone())),
    };
    assert!(post(
        &receiver,
        Some(&server_as_client),
        &proto,
        sample_request("e", 1).encode_to_vec()
    )
    .is_err());

    assert_eq!(receiver.span_count(), 2);
    assert_eq!(
        receiver.request_count(),
        2,
        "rejected handshakes never become requests"
    );
}

#[test]
fn bad_tls_material_is_an_error_not_a_panic() {
    let err =
        Receiver::start(ReceiverConfig::grpc().with_tls(TlsConfig::new("not a cert", "not a key")))
            .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn http_faults_then_success() {
    let receiver = Receiver::start(
        ReceiverConfig::http().with_faults(
            Faults::fail_first(2)
                .with_http_status(503)
                .with_retry_after(Duration::from_millis(2500)),
        ),
    )
    .unwrap();
    let body = sample_request("svc", 1).encode_to_vec();
    let proto = [("content-type", "application/x-protobuf")];
    for _ in 0..2 {
        let reply = post(&receiver, None, &proto, body.clone()).unwrap();
        assert_eq!(reply.status, 503);
        assert_eq!(reply.headers["retry-after"], "3");
        let status = tonic_types::Status::decode(reply.body).unwrap();
        assert_eq!(status.code, Code::Unavailable as i32);
    }
    assert_eq!(post(&receiver, None, &proto, body).unwrap().status, 200);
    assert_eq!(receiver.request_count(), 3);
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(receiver.span_count(), 1);

    // JSON requests get JSON error bodies.
    let receiver = Receiver::start(
        ReceiverConfig::http().with_faults(Faults::fail_first(1).with_http_status(429)),
    )
    .unwrap();
    let reply = post(
        &receiver,
        None,
        &[("content-type", "application/json")],
        b"{}".to_vec(),
    )
    .unwrap();
    assert_eq!(reply.status, 429);
    assert!(reply.headers.get("retry-after").is_none());
    let v: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(v["code"], Code::Unavailable as i32);
}

#[test]
fn grpc_faults_carry_retry_info() {
    let receiver = Receiver::start(
        ReceiverConfig::grpc().with_faults(
            Faults::fail_first(1)
                .with_grpc_code(Code::ResourceExhausted)
                .with_retry_after(Duration::from_millis(1500)),
        ),
    )
    .unwrap();
    let endpoint = receiver.grpc_endpoint().unwrap();
    let status = grpc_export(&endpoint, None, false, sample_request("s", 2)).unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    let info = status.get_details_retry_info().expect("RetryInfo detail");
    assert_eq!(info.retry_delay, Some(Duration::from_millis(1500)));
    grpc_export(&endpoint, None, false, sample_request("s", 2)).unwrap();
    assert_eq!(receiver.request_count(), 2);
    assert_eq!(receiver.span_count(), 2);

    // Default: UNAVAILABLE, no details.
    let receiver =
        Receiver::start(ReceiverConfig::grpc().with_faults(Faults::fail_first(1))).unwrap();
    let status = grpc_export(
        &receiver.grpc_endpoint().unwrap(),
        None,
        false,
        sample_request("s", 1),
    )
    .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable);
    assert!(status.get_details_retry_info().is_none());
}

#[test]
fn count_only_counts_without_keeping() {
    let receiver = Receiver::start(ReceiverConfig::grpc_and_http().count_only()).unwrap();
    grpc_export(
        &receiver.grpc_endpoint().unwrap(),
        None,
        true,
        sample_request("a", 7),
    )
    .unwrap();
    let proto = [("content-type", "application/x-protobuf")];
    let reply = post(
        &receiver,
        None,
        &proto,
        sample_request("b", 11).encode_to_vec(),
    )
    .unwrap();
    assert_eq!(reply.status, 200);
    let json = request_to_json_line(&sample_request("c", 4)).into_bytes();
    let reply = post(
        &receiver,
        None,
        &[("content-type", "application/json")],
        json,
    )
    .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(
        post(&receiver, None, &proto, vec![0xff; 3]).unwrap().status,
        400
    );
    assert!(receiver.wait_for_spans(22, WAIT));
    assert_eq!(receiver.span_count(), 22);
    assert_eq!(receiver.request_count(), 4);
    assert!(receiver.requests().is_empty());
}

#[test]
fn hook_sees_each_request_before_the_response() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let receiver = Receiver::start(ReceiverConfig {
        keep_requests: false,
        on_request: Some(Arc::new(move |r: &ReceivedRequest| {
            sink.lock().unwrap().push(request_to_json_line(&r.request));
        })),
        ..ReceiverConfig::grpc_and_http()
    })
    .unwrap();
    let sent = sample_request("hooked", 2);
    grpc_export(
        &receiver.grpc_endpoint().unwrap(),
        None,
        false,
        sent.clone(),
    )
    .unwrap();
    // No waiting: the hook ran before the client got its answer.
    assert_eq!(seen.lock().unwrap().len(), 1);
    let back = request_from_json(seen.lock().unwrap()[0].as_bytes()).unwrap();
    assert_eq!(back, sent);
    assert!(receiver.requests().is_empty(), "keep_requests: false");
    assert_eq!(receiver.span_count(), 2);
}

#[test]
fn wait_for_spans_times_out() {
    let receiver = Receiver::start(ReceiverConfig::grpc()).unwrap();
    let t = Instant::now();
    assert!(!receiver.wait_for_spans(1, Duration::from_millis(200)));
    assert!(t.elapsed() >= Duration::from_millis(200));
    assert!(receiver.wait_for_spans(0, Duration::ZERO));
}

#[test]
fn shutdown_is_bounded_and_closes_ports() {
    let receiver = Receiver::start(ReceiverConfig::grpc_and_http()).unwrap();
    let grpc = receiver.grpc_addr().unwrap();
    let http = receiver.http_addr().unwrap();
    let endpoint = receiver.grpc_endpoint().unwrap();
    let rt = runtime();
    // Keep an HTTP/2 connection open across the shutdown.
    let mut client = rt.block_on(grpc_client(&endpoint, None)).unwrap();
    rt.block_on(client.export(sample_request("x", 1))).unwrap();
    // And an idle half-open TCP connection that never sends a byte.
    let _idle = std::net::TcpStream::connect(http).unwrap();

    let t = Instant::now();
    receiver.shutdown();
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert!(std::net::TcpStream::connect(grpc).is_err());
    assert!(std::net::TcpStream::connect(http).is_err());
    assert!(rt.block_on(client.export(sample_request("x", 1))).is_err());
}

#[test]
fn drop_inside_a_tokio_runtime_does_not_panic() {
    runtime().block_on(async {
        let receiver = Receiver::start(ReceiverConfig::grpc()).unwrap();
        let endpoint = receiver.grpc_endpoint().unwrap();
        let mut client = grpc_client(&endpoint, None).await.unwrap();
        client.export(sample_request("x", 1)).await.unwrap();
        drop(receiver);
    });
}

#[test]
fn busy_port_is_an_error() {
    let first = Receiver::start(ReceiverConfig::grpc()).unwrap();
    let err = Receiver::start(ReceiverConfig {
        http_addr: first.grpc_addr(),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}

#[test]
fn receiver_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Receiver>();
    check::<ReceiverConfig>();
    check::<ReceivedRequest>();
}
