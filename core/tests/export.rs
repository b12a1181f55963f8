//! The exporters against a real OTLP receiver on 127.0.0.1: OTLP over gRPC, HTTP/protobuf and
//! HTTP/JSON (content, headers, gzip, TLS and mTLS, retries, a dead back end, bounded memory),
//! plus the file and console exporters. Every receiver is stopped and every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
/// The test certificates, shared with the receiver's own tests.
#[path = "../../receiver/tests/common/pki.rs"]
mod shared_pki;

use common::{
    closed_port, config, i, proto_attr, proto_int, proto_str, received_spans, s, temp_dir, timed,
    Received,
};
use polytrace_core::config::OptionValue;
use polytrace_core::*;
use polytrace_receiver::opentelemetry_proto::tonic::common::v1::{
    any_value::Value as Av, AnyValue,
};
use polytrace_receiver::{Code, Faults, Receiver, ReceiverConfig, TlsConfig, Transport};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Generous bound for anything that should succeed (a loaded CI machine with 2 cores).
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Fixtures

#[derive(Clone, Copy, Debug, PartialEq)]
enum Proto {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Grpc => "grpc",
            Proto::HttpProtobuf => "http/protobuf",
            Proto::HttpJson => "http/json",
        }
    }

    fn transport(self) -> Transport {
        match self {
            Proto::Grpc => Transport::Grpc,
            Proto::HttpProtobuf => Transport::HttpProtobuf,
            Proto::HttpJson => Transport::HttpJson,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Proto::Grpc => "application/grpc",
            Proto::HttpProtobuf => "application/x-protobuf",
            Proto::HttpJson => "application/json",
        }
    }

    fn receiver(self) -> ReceiverConfig {
        match self {
            Proto::Grpc => ReceiverConfig::grpc(),
            Proto::HttpProtobuf | Proto::HttpJson => ReceiverConfig::http(),
        }
    }

    /// The endpoint option for `r`: gRPC takes the URL as-is; HTTP/protobuf is given the base
    /// URL (the core appends `/v1/traces`) and HTTP/JSON the full per-signal URL, so both
    /// endpoint rules are exercised.
    fn endpoint(self, r: &Receiver) -> (&'static str, OptionValue) {
        match self {
            Proto::Grpc => ("endpoint", s(&r.grpc_endpoint().unwrap())),
            Proto::HttpProtobuf => {
                let full = r.http_endpoint().unwrap();
                ("endpoint", s(full.trim_end_matches("/v1/traces")))
            }
            Proto::HttpJson => ("traces_endpoint", s(&r.http_endpoint().unwrap())),
        }
    }

    /// An endpoint on a port nothing listens on.
    fn dead_endpoint(self) -> (&'static str, OptionValue) {
        let port = closed_port();
        match self {
            Proto::Grpc => ("endpoint", s(&format!("http://127.0.0.1:{port}"))),
            Proto::HttpProtobuf | Proto::HttpJson => {
                ("endpoint", s(&format!("http://127.0.0.1:{port}")))
            }
        }
    }
}

/// Options for an OTLP provider; `extra` overrides the defaults given here.
fn options(
    proto: Proto,
    endpoint: (&'static str, OptionValue),
    extra: &[(&'static str, OptionValue)],
) -> Vec<(&'static str, OptionValue)> {
    let mut opts: Vec<(&'static str, OptionValue)> = vec![
        ("exporter", s("otlp")),
        ("protocol", s(proto.name())),
        ("service_name", s("export-test")),
        // Only force_flush/shutdown export, so batches (and request counts) are predictable.
        ("schedule_delay", i(60_000)),
        endpoint,
    ];
    for (k, v) in extra {
        opts.retain(|(name, _)| name != k);
        opts.push((k, v.clone()));
    }
    opts
}

fn provider(proto: Proto, r: &Receiver, extra: &[(&'static str, OptionValue)]) -> Provider {
    Provider::from_config(config(&options(proto, proto.endpoint(r), extra))).unwrap()
}

/// Ends `n` root spans named `{prefix}-{k}`; returns their contexts.
fn produce(p: &Provider, prefix: &str, n: usize) -> Vec<SpanContext> {
    let t = p.tracer("export-test", None, None, vec![]);
    (0..n)
        .map(|k| {
            let mut sp = t.start_span(format!("{prefix}-{k}"), StartOptions::default());
            sp.set_attribute("k", k as i64);
            sp.end(None);
            sp.span_context().clone()
        })
        .collect()
}

/// Asserts that every context in `sent` arrived exactly once.
fn assert_arrived_once(r: &Receiver, sent: &[SpanContext]) {
    let got = received_spans(&r.requests());
    for c in sent {
        let hits = got
            .iter()
            .filter(|g| g.span.span_id == c.span_id.0 && g.span.trace_id == c.trace_id.0)
            .count();
        assert_eq!(hits, 1, "span {} arrived {hits} times", c.span_id);
    }
    assert_eq!(got.len(), sent.len(), "unexpected extra spans: {got:#?}");
}

/// A private CA, a server certificate for localhost/127.0.0.1 and a client certificate, as
/// PEM files in a temp dir.
struct Pki {
    dir: PathBuf,
    ca: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
}

impl Pki {
    fn new() -> Pki {
        let certs = shared_pki::pki();
        let dir = temp_dir("pki");
        let write = |name: &str, pem: &str| {
            let p = dir.join(name);
            std::fs::write(&p, pem).unwrap();
            p
        };
        Pki {
            ca: write("ca.pem", &certs.ca_pem),
            client_cert: write("client.pem", &certs.client_cert_pem),
            client_key: write("client-key.pem", &certs.client_key_pem),
            ca_pem: certs.ca_pem,
            server_cert_pem: certs.server_cert_pem,
            server_key_pem: certs.server_key_pem,
            dir,
        }
    }

    fn server_tls(&self) -> TlsConfig {
        TlsConfig::new(self.server_cert_pem.clone(), self.server_key_pem.clone())
    }

    fn path(p: &std::path::Path) -> OptionValue {
        s(p.to_str().unwrap())
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------------
// 1. A span tree arrives intact

const T0: u64 = 1_700_000_000_000_000_000;
const SCHEMA: &str = "https://opentelemetry.io/schemas/1.26.0";

fn find<'a>(got: &'a [Received], name: &str) -> &'a Received {
    got.iter()
        .find(|g| g.span.name == name)
        .unwrap_or_else(|| panic!("span {name} not received; got {got:#?}"))
}

fn av(v: &AnyValue) -> &Av {
    v.value.as_ref().unwrap()
}

fn span_tree(proto: Proto) {
    let r = Receiver::start(proto.receiver()).unwrap();
    let p = provider(proto, &r, &[]);
    let t = p.tracer(
        "polytrace-export-test",
        Some("1.2.3".into()),
        Some(SCHEMA.into()),
        vec![("scope.attr".into(), Value::Int(9))],
    );
    let linked = SpanContext {
        trace_id: TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        span_id: SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        trace_flags: TraceFlags(TraceFlags::SAMPLED),
        trace_state: Default::default(),
        is_remote: true,
    };

    let mut root = t.start_span(
        "root",
        StartOptions {
            kind: SpanKind::Server,
            attributes: vec![("http.request.method".into(), Value::from("GET"))],
            ..Default::default()
        },
    );
    root.set_attribute("str", "x");
    root.set_attribute("bool", true);
    root.set_attribute("int", -7i64);
    root.set_attribute("double", 1.5f64);
    root.set_attribute(
        "str_array",
        Value::StringArray(vec!["a".into(), "b".into()]),
    );
    root.set_attribute("bool_array", Value::BoolArray(vec![true, false]));
    root.set_attribute("int_array", Value::IntArray(vec![1, -2, i64::MAX]));
    root.set_attribute("double_array", Value::DoubleArray(vec![0.5, -2.25]));

    let mut c1 = t.start_span(
        "child-1",
        StartOptions {
            parent: Some(root.span_context()),
            kind: SpanKind::Client,
            links: vec![Link {
                context: linked.clone(),
                attributes: vec![("link.reason".into(), Value::from("retry-of"))],
            }],
            ..Default::default()
        },
    );
    c1.add_event(Event {
        name: "cache.miss".into(),
        time: Some(T0),
        attributes: vec![
            ("cache.key".into(), Value::from("user:1")),
            ("cache.size".into(), Value::Int(3)),
        ],
    });
    c1.record_exception(Exception {
        type_name: "IOError".into(),
        message: "disk full".into(),
        stacktrace: Some("at main.rs:1".into()),
        escaped: Some(true),
        attributes: vec![("retryable".into(), Value::Bool(false))],
        time: Some(T0 + 1_000),
    });
    c1.set_status(Status::Error("upstream failed".into()));
    c1.end(None);

    let mut c2 = t.start_span(
        "child-2",
        StartOptions {
            parent: Some(root.span_context()),
            kind: SpanKind::Consumer,
            start_time: Some(T0 + 2_000),
            ..Default::default()
        },
    );
    c2.set_status(Status::Ok);
    c2.end(Some(T0 + 5_000_000));
    root.end(None);

    let root_ctx = root.span_context().clone();
    let c1_ctx = c1.span_context().clone();
    let c2_ctx = c2.span_context().clone();

    p.force_flush(WAIT).unwrap();
    assert!(r.wait_for_spans(3, WAIT), "spans did not arrive");
    let requests = r.requests();
    for req in &requests {
        assert_eq!(req.transport, proto.transport());
        assert!(!req.compressed, "compressed without compression configured");
        let ct = req.header("content-type").unwrap_or_default();
        assert!(ct.starts_with(proto.content_type()), "content-type {ct}");
    }
    let got = received_spans(&requests);
    assert_eq!(got.len(), 3, "{got:#?}");

    let root_rx = find(&got, "root");
    let c1_rx = find(&got, "child-1");
    let c2_rx = find(&got, "child-2");

    // Resource.
    for g in &got {
        let res = &g.resource;
        assert_eq!(proto_str(res, "service.name"), Some("export-test"));
        assert_eq!(proto_str(res, "telemetry.sdk.name"), Some("polytrace"));
        assert_eq!(proto_str(res, "telemetry.sdk.language"), Some("rust"));
        assert_eq!(
            proto_str(res, "telemetry.sdk.version"),
            Some(polytrace_core::resource::SDK_VERSION)
        );
        assert_eq!(
            proto_int(res, "process.pid"),
            Some(i64::from(std::process::id()))
        );
        // Scope.
        let scope = g.scope.as_ref().expect("scope");
        assert_eq!(scope.name, "polytrace-export-test");
        assert_eq!(scope.version, "1.2.3");
        assert_eq!(proto_int(&scope.attributes, "scope.attr"), Some(9));
        assert_eq!(g.scope_schema_url, SCHEMA);
    }

    // Ids, parentage, kinds, flags.
    let root_s = &root_rx.span;
    assert_eq!(root_s.trace_id, root_ctx.trace_id.0);
    assert_eq!(root_s.span_id, root_ctx.span_id.0);
    assert!(root_s.parent_span_id.is_empty(), "root has a parent");
    assert_eq!(root_s.kind, 2, "SERVER");
    for (rx, ctx, kind) in [(c1_rx, &c1_ctx, 3), (c2_rx, &c2_ctx, 5)] {
        assert_eq!(rx.span.trace_id, root_ctx.trace_id.0);
        assert_eq!(rx.span.span_id, ctx.span_id.0);
        assert_eq!(rx.span.parent_span_id, root_ctx.span_id.0);
        assert_eq!(rx.span.kind, kind, "{}", rx.span.name);
    }
    for g in &got {
        // W3C flags (sampled + random) and "parent is not remote" (0x100 set, 0x200 clear).
        assert_eq!(g.span.flags & 0xff, 0x03, "{}", g.span.name);
        assert_eq!(g.span.flags & 0x300, 0x100, "{}", g.span.name);
        assert_eq!(g.span.dropped_attributes_count, 0);
        assert_eq!(g.span.dropped_events_count, 0);
        assert_eq!(g.span.dropped_links_count, 0);
        assert!(g.span.end_time_unix_nano >= g.span.start_time_unix_nano);
    }
    assert!(c1_rx.span.start_time_unix_nano >= root_s.start_time_unix_nano);
    assert!(root_s.end_time_unix_nano >= c1_rx.span.end_time_unix_nano);
    assert_eq!(c2_rx.span.start_time_unix_nano, T0 + 2_000);
    assert_eq!(c2_rx.span.end_time_unix_nano, T0 + 5_000_000);

    // Every attribute value with its type.
    let a = &root_s.attributes;
    assert_eq!(a.len(), 9, "{a:#?}");
    assert_eq!(proto_str(a, "http.request.method"), Some("GET"));
    assert_eq!(proto_str(a, "str"), Some("x"));
    assert_eq!(proto_attr(a, "bool"), Some(&Av::BoolValue(true)));
    assert_eq!(proto_attr(a, "int"), Some(&Av::IntValue(-7)));
    assert_eq!(proto_attr(a, "double"), Some(&Av::DoubleValue(1.5)));
    let array = |key: &str| -> Vec<Av> {
        match proto_attr(a, key) {
            Some(Av::ArrayValue(arr)) => arr.values.iter().map(|v| av(v).clone()).collect(),
            other => panic!("{key}: expected an array, got {other:?}"),
        }
    };
    assert_eq!(
        array("str_array"),
        vec![Av::StringValue("a".into()), Av::StringValue("b".into())]
    );
    assert_eq!(
        array("bool_array"),
        vec![Av::BoolValue(true), Av::BoolValue(false)]
    );
    assert_eq!(
        array("int_array"),
        vec![Av::IntValue(1), Av::IntValue(-2), Av::IntValue(i64::MAX)]
    );
    assert_eq!(
        array("double_array"),
        vec![Av::DoubleValue(0.5), Av::DoubleValue(-2.25)]
    );

    // Events: a plain one and the exception.
    let ev = &c1_rx.span.events;
    assert_eq!(ev.len(), 2, "{ev:#?}");
    assert_eq!(ev[0].name, "cache.miss");
    assert_eq!(ev[0].time_unix_nano, T0);
    assert_eq!(ev[0].attributes.len(), 2);
    assert_eq!(proto_str(&ev[0].attributes, "cache.key"), Some("user:1"));
    assert_eq!(proto_int(&ev[0].attributes, "cache.size"), Some(3));
    assert_eq!(ev[1].name, "exception");
    assert_eq!(ev[1].time_unix_nano, T0 + 1_000);
    let ex = &ev[1].attributes;
    assert_eq!(proto_str(ex, "exception.type"), Some("IOError"));
    assert_eq!(proto_str(ex, "exception.message"), Some("disk full"));
    assert_eq!(proto_str(ex, "exception.stacktrace"), Some("at main.rs:1"));
    assert_eq!(
        proto_attr(ex, "exception.escaped"),
        Some(&Av::BoolValue(true))
    );
    assert_eq!(proto_attr(ex, "retryable"), Some(&Av::BoolValue(false)));

    // The link.
    let links = &c1_rx.span.links;
    assert_eq!(links.len(), 1, "{links:#?}");
    assert_eq!(links[0].trace_id, linked.trace_id.0);
    assert_eq!(links[0].span_id, linked.span_id.0);
    assert_eq!(
        proto_str(&links[0].attributes, "link.reason"),
        Some("retry-of")
    );
    assert_eq!(links[0].flags & 0x01, 0x01, "linked context is sampled");
    assert_eq!(links[0].flags & 0x300, 0x300, "linked context is remote");

    // Status: error with message, ok, unset.
    let st = |g: &Received| g.span.status.clone().unwrap_or_default();
    assert_eq!(st(c1_rx).code, 2, "ERROR");
    assert_eq!(st(c1_rx).message, "upstream failed");
    assert_eq!(st(c2_rx).code, 1, "OK");
    assert_eq!(st(root_rx).code, 0, "UNSET");

    let stats = p.stats();
    assert_eq!(stats.spans_started, 3);
    assert_eq!(stats.spans_ended, 3);
    assert_eq!(stats.spans_exported, 3);
    assert_eq!(stats.spans_dropped, 0);
    assert_eq!(stats.export_failures, 0);
    p.shutdown(WAIT).unwrap();
    r.shutdown();
}

#[test]
fn span_tree_arrives_intact_grpc() {
    span_tree(Proto::Grpc);
}

#[test]
fn span_tree_arrives_intact_http_protobuf() {
    span_tree(Proto::HttpProtobuf);
}

#[test]
fn span_tree_arrives_intact_http_json() {
    span_tree(Proto::HttpJson);
}

// ---------------------------------------------------------------------------------------------
// 2. Headers and gzip

fn headers_and_gzip(proto: Proto) {
    let r = Receiver::start(proto.receiver()).unwrap();
    // The environment format: percent-decoded values, names lowercased.
    let p = provider(
        proto,
        &r,
        &[
            (
                "headers",
                s("X-Api-Key=secret%20value, x-tenant=acme%2Ceu, x-quota=50%2520"),
            ),
            ("compression", s("gzip")),
        ],
    );
    let sent = produce(&p, "hdr", 4);
    p.force_flush(WAIT).unwrap();
    assert!(r.wait_for_spans(4, WAIT));
    let reqs = r.requests();
    assert!(!reqs.is_empty());
    for req in &reqs {
        assert_eq!(req.transport, proto.transport());
        assert!(req.compressed, "payload not gzip-compressed");
        assert_eq!(req.header("x-api-key"), Some("secret value"));
        assert_eq!(req.header("x-tenant"), Some("acme,eu"));
        // Decoded once, by the core: the exporter must not decode `%20` again.
        assert_eq!(req.header("x-quota"), Some("50%20"));
    }
    assert_arrived_once(&r, &sent);

    // The map form of the option is used as given (names lowercased).
    let p2 = provider(
        proto,
        &r,
        &[(
            "headers",
            OptionValue::Map(vec![("Authorization".into(), "Bearer a=b%20c".into())]),
        )],
    );
    produce(&p2, "map", 1);
    p2.force_flush(WAIT).unwrap();
    assert!(r.wait_for_spans(5, WAIT));
    let last = r.requests().pop().unwrap();
    assert!(!last.compressed);
    assert_eq!(last.header("authorization"), Some("Bearer a=b%20c"));
    p.shutdown(WAIT).unwrap();
    p2.shutdown(WAIT).unwrap();
    r.shutdown();
}

#[test]
fn headers_and_gzip_grpc() {
    headers_and_gzip(Proto::Grpc);
}

#[test]
fn headers_and_gzip_http_protobuf() {
    headers_and_gzip(Proto::HttpProtobuf);
}

#[test]
fn headers_and_gzip_http_json() {
    headers_and_gzip(Proto::HttpJson);
}

// ---------------------------------------------------------------------------------------------
// 3. TLS and mutual TLS

/// Options for a failing TLS export: the export timeout stays long (30 s, the default), so a
/// rejected handshake that were retried would keep a flush waiting for it.
fn failing_tls_options() -> Vec<(&'static str, OptionValue)> {
    vec![("timeout", i(2_000)), ("export_timeout", i(30_000))]
}

/// Options for an export the server rejects in the TLS handshake (mTLS without a client
/// certificate): short, because the rejection is not always seen as one. Under TLS 1.3 the
/// client finishes its side of the handshake and writes the request before the server's
/// alert arrives; when the server has closed first, the client sees a reset connection, which
/// is retried like any other (CI saw one such run: a flush of 14 s with a 30 s export timeout).
fn server_rejection_options() -> Vec<(&'static str, OptionValue)> {
    vec![("timeout", i(1_000)), ("export_timeout", i(1_500))]
}

/// Exports 3 spans that must fail: not received, counted as dropped, and a shutdown is
/// bounded. `prompt`: a rejection this side makes (the server's certificate, a peer that does
/// not speak TLS) is not retried, so the flush returns after one attempt instead of at the
/// export timeout; otherwise the flush is only bounded by it.
fn assert_export_fails(p: &Provider, r: &Receiver, prompt: bool) {
    let n = produce(p, "fail", 3).len() as u64;
    let (flushed, took) = timed(|| p.force_flush(Duration::from_secs(20)));
    if prompt {
        flushed.unwrap();
        assert!(
            took < Duration::from_secs(3),
            "force_flush took {took:?}: the rejected handshake was retried"
        );
    } else {
        assert!(took < Duration::from_secs(5), "force_flush took {took:?}");
        if let Err(e) = flushed {
            assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        }
    }
    assert_eq!(p.stats().dropped_export_failed, n, "{:?}", p.stats());
    let (shut, took) = timed(|| p.shutdown(Duration::from_secs(3)));
    assert!(took < Duration::from_secs(4), "shutdown took {took:?}");
    shut.unwrap();
    let st = p.stats();
    assert!(st.export_failures >= 1, "{st:?}");
    assert_eq!(st.dropped_export_failed, n, "{st:?}");
    assert_eq!(st.spans_exported, 0, "{st:?}");
    assert_eq!(
        st.spans_ended,
        st.spans_exported + st.spans_dropped,
        "{st:?}"
    );
    assert_eq!(r.span_count(), 0);
    assert_eq!(r.request_count(), 0, "a request got through the handshake");
}

fn tls(proto: Proto) {
    let pki = Pki::new();
    let r = Receiver::start(proto.receiver().with_tls(pki.server_tls())).unwrap();
    let (_, ep) = proto.endpoint(&r);
    let OptionValue::Str(ep) = ep else {
        unreachable!()
    };
    assert!(ep.starts_with("https://"), "{ep}");

    // With the CA: works.
    let p = provider(proto, &r, &[("certificate", Pki::path(&pki.ca))]);
    let sent = produce(&p, "tls", 2);
    p.force_flush(WAIT).unwrap();
    assert!(r.wait_for_spans(2, WAIT));
    assert_arrived_once(&r, &sent);
    assert_eq!(p.stats().spans_exported, 2);
    p.shutdown(WAIT).unwrap();

    // Without it the server certificate is not trusted.
    let r2 = Receiver::start(proto.receiver().with_tls(pki.server_tls())).unwrap();
    let p = provider(proto, &r2, &failing_tls_options());
    assert_export_fails(&p, &r2, true);
    r.shutdown();
    r2.shutdown();
}

#[test]
fn tls_grpc() {
    tls(Proto::Grpc);
}

#[test]
fn tls_http_protobuf() {
    tls(Proto::HttpProtobuf);
}

#[test]
fn tls_http_json() {
    tls(Proto::HttpJson);
}

fn mtls(proto: Proto) {
    let pki = Pki::new();
    let server = pki.server_tls().with_client_ca(pki.ca_pem.clone());
    let r = Receiver::start(proto.receiver().with_tls(server.clone())).unwrap();

    // With a client certificate: works.
    let p = provider(
        proto,
        &r,
        &[
            ("certificate", Pki::path(&pki.ca)),
            ("client_certificate", Pki::path(&pki.client_cert)),
            ("client_key", Pki::path(&pki.client_key)),
        ],
    );
    let sent = produce(&p, "mtls", 2);
    p.force_flush(WAIT).unwrap();
    assert!(r.wait_for_spans(2, WAIT));
    assert_arrived_once(&r, &sent);
    p.shutdown(WAIT).unwrap();

    // Trusting the server but without a client certificate: the handshake fails.
    let r2 = Receiver::start(proto.receiver().with_tls(server)).unwrap();
    let mut opts = server_rejection_options();
    opts.push(("certificate", Pki::path(&pki.ca)));
    let p = provider(proto, &r2, &opts);
    assert_export_fails(&p, &r2, false);
    r.shutdown();
    r2.shutdown();
}

/// An `https://` endpoint whose server speaks plaintext: the handshake fails (the answer is no
/// TLS record) and the export fails at once — never retried, never sent in plaintext.
fn https_to_plaintext(proto: Proto) {
    let r = Receiver::start(proto.receiver()).unwrap();
    let (name, ep) = proto.endpoint(&r);
    let OptionValue::Str(ep) = ep else {
        unreachable!()
    };
    let ep = ep.replacen("http://", "https://", 1);
    let mut opts = failing_tls_options();
    opts.push((name, s(&ep)));
    let p = Provider::from_config(config(&options(proto, (name, s(&ep)), &opts))).unwrap();
    assert_export_fails(&p, &r, true);
    r.shutdown();
}

#[test]
fn https_to_plaintext_grpc() {
    https_to_plaintext(Proto::Grpc);
}

#[test]
fn https_to_plaintext_http() {
    https_to_plaintext(Proto::HttpProtobuf);
}

#[test]
fn mtls_grpc() {
    mtls(Proto::Grpc);
}

#[test]
fn mtls_http_protobuf() {
    mtls(Proto::HttpProtobuf);
}

#[test]
fn mtls_http_json() {
    mtls(Proto::HttpJson);
}

// ---------------------------------------------------------------------------------------------
// 4. Retries

/// The first 2 requests fail with `faults`; the batch must still arrive exactly once after
/// at least `min_elapsed` (the back-off or the server's throttling hint).
fn retried(proto: Proto, faults: Faults, min_elapsed: Duration) {
    let r = Receiver::start(proto.receiver().with_faults(Faults {
        fail_first: 2,
        ..faults
    }))
    .unwrap();
    let p = provider(proto, &r, &[("timeout", i(10_000))]);
    let sent = produce(&p, "retry", 3);
    let (flushed, took) = timed(|| p.force_flush(Duration::from_secs(20)));
    flushed.unwrap();
    assert!(r.wait_for_spans(3, WAIT));
    assert_eq!(r.request_count(), 3, "2 failures + 1 success");
    assert_arrived_once(&r, &sent);
    assert!(
        took >= min_elapsed,
        "retried after {took:?}, expected ≥ {min_elapsed:?}"
    );
    assert!(took < Duration::from_secs(10), "retries took {took:?}");
    let st = p.stats();
    assert_eq!(st.spans_exported, 3, "{st:?}");
    assert_eq!(st.spans_dropped, 0, "{st:?}");
    assert_eq!(st.export_failures, 0, "{st:?}");
    p.shutdown(WAIT).unwrap();
    r.shutdown();
}

/// Every request fails with `faults`, which must not be retried.
fn not_retried(proto: Proto, faults: Faults) {
    let r = Receiver::start(proto.receiver().with_faults(Faults {
        fail_first: u64::MAX,
        ..faults
    }))
    .unwrap();
    let p = provider(proto, &r, &[("timeout", i(10_000))]);
    produce(&p, "permanent", 3);
    let (flushed, took) = timed(|| p.force_flush(Duration::from_secs(20)));
    flushed.unwrap();
    assert!(
        took < Duration::from_secs(2),
        "a permanent error took {took:?}"
    );
    assert_eq!(r.request_count(), 1, "a non-retryable error was retried");
    assert_eq!(r.span_count(), 0);
    let st = p.stats();
    assert_eq!(st.spans_exported, 0, "{st:?}");
    assert_eq!(st.export_failures, 1, "{st:?}");
    assert_eq!(st.dropped_export_failed, 3, "{st:?}");
    p.shutdown(WAIT).unwrap();
    r.shutdown();
}

#[test]
fn retry_http_protobuf_503_honours_retry_after() {
    // Two throttled attempts, each waiting at least the 1 s the server asked for.
    retried(
        Proto::HttpProtobuf,
        Faults::default()
            .with_http_status(503)
            .with_retry_after(Duration::from_secs(1)),
        Duration::from_secs(2),
    );
}

#[test]
fn retry_http_json_429_honours_retry_after() {
    retried(
        Proto::HttpJson,
        Faults::default()
            .with_http_status(429)
            .with_retry_after(Duration::from_secs(1)),
        Duration::from_secs(2),
    );
}

#[test]
fn retry_http_protobuf_502_backs_off() {
    // No hint: exponential back-off from 100 ms (100 ms + 200 ms at least).
    retried(
        Proto::HttpProtobuf,
        Faults::default().with_http_status(502),
        Duration::from_millis(300),
    );
}

#[test]
fn retry_grpc_unavailable_backs_off() {
    retried(
        Proto::Grpc,
        Faults::default().with_grpc_code(Code::Unavailable),
        Duration::from_millis(300),
    );
}

#[test]
fn retry_grpc_resource_exhausted_honours_retry_info() {
    retried(
        Proto::Grpc,
        Faults::default()
            .with_grpc_code(Code::ResourceExhausted)
            .with_retry_after(Duration::from_secs(1)),
        Duration::from_secs(2),
    );
}

#[test]
fn retry_grpc_unavailable_honours_retry_info() {
    retried(
        Proto::Grpc,
        Faults::default()
            .with_grpc_code(Code::Unavailable)
            .with_retry_after(Duration::from_secs(1)),
        Duration::from_secs(2),
    );
}

#[test]
fn no_retry_http_protobuf_400() {
    not_retried(Proto::HttpProtobuf, Faults::default().with_http_status(400));
}

#[test]
fn no_retry_http_json_400() {
    not_retried(Proto::HttpJson, Faults::default().with_http_status(400));
}

#[test]
fn no_retry_grpc_invalid_argument() {
    not_retried(
        Proto::Grpc,
        Faults::default().with_grpc_code(Code::InvalidArgument),
    );
}

#[test]
fn no_retry_grpc_resource_exhausted_without_retry_info() {
    // The OTLP specification: RESOURCE_EXHAUSTED is retryable only with a RetryInfo.
    not_retried(
        Proto::Grpc,
        Faults::default().with_grpc_code(Code::ResourceExhausted),
    );
}

// ---------------------------------------------------------------------------------------------
// 5. The back end is down

fn backend_down(proto: Proto) {
    const QUEUE: u64 = 100;
    /// The OTLP exporter's bound on requests in flight (`MAX_IN_FLIGHT` in `core/src/otlp.rs`).
    const IN_FLIGHT: u64 = 2;
    let opts = options(
        proto,
        proto.dead_endpoint(),
        &[
            ("timeout", i(500)),
            ("export_timeout", i(1_000)),
            ("schedule_delay", i(100)),
            ("max_queue_size", i(QUEUE as i64)),
        ],
    );
    let cfg = config(&opts);
    let batch = cfg.batch.max_export_batch_size as u64;
    assert_eq!(
        batch, QUEUE,
        "the default batch size follows a smaller queue"
    );
    let p = Provider::from_config(cfg).unwrap();

    // A few spans: flush is bounded and reports the loss.
    produce(&p, "down", 10);
    let (flushed, took) = timed(|| p.force_flush(Duration::from_secs(3)));
    assert!(took < Duration::from_secs(5), "force_flush took {took:?}");
    match &flushed {
        Ok(()) => {
            let st = p.stats();
            assert_eq!(st.dropped_export_failed, 10, "{st:?}");
            assert!(st.export_failures >= 1, "{st:?}");
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::Timeout, "{e}"),
    }

    // 10× the queue while the back end is down: memory stays bounded, the rest is dropped.
    let (_, took) = timed(|| produce(&p, "flood", 10 * QUEUE as usize));
    assert!(
        took < Duration::from_secs(2),
        "span calls blocked: {took:?}"
    );
    let st = p.stats();
    let pending = st.spans_ended - st.spans_exported - st.spans_dropped;
    // The queue plus one taken swap the export thread is working through (each ≤ QUEUE), plus
    // the requests in flight (the OTLP exporter keeps at most 2, of ≤ one batch each).
    let held = 2 * QUEUE + IN_FLIGHT * batch;
    assert!(
        pending <= held,
        "{pending} spans held (queue {QUEUE}, batch {batch}): {st:?}"
    );
    assert!(st.dropped_queue_full >= 10 * QUEUE - held, "{st:?}");

    let (shut, took) = timed(|| p.shutdown(Duration::from_secs(3)));
    assert!(took < Duration::from_secs(4), "shutdown took {took:?}");
    let st = p.stats();
    assert_eq!(st.spans_ended, 10 + 10 * QUEUE, "{st:?}");
    assert_eq!(st.spans_exported, 0, "{st:?}");
    match shut {
        // Everything is accounted for once the worker is done.
        Ok(()) => assert_eq!(st.spans_ended, st.spans_dropped, "{st:?}"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
            let pending = st.spans_ended - st.spans_exported - st.spans_dropped;
            assert!(pending <= held, "{st:?}");
        }
    }
    assert!(st.export_failures >= 1, "{st:?}");
}

#[test]
fn backend_down_grpc() {
    backend_down(Proto::Grpc);
}

#[test]
fn backend_down_http_protobuf() {
    backend_down(Proto::HttpProtobuf);
}

#[test]
fn backend_down_http_json() {
    backend_down(Proto::HttpJson);
}

// ---------------------------------------------------------------------------------------------
// 5b. Prompt shutdown with the back end down (issue 16): one deadline for everything at
// shutdown, no retry of a back end that does not answer, everything counted.

/// Asserts that every ended span was exported or counted as dropped.
fn assert_counted(p: &Provider, ended: u64) {
    let st = p.stats();
    assert_eq!(st.spans_ended, ended, "{st:?}");
    assert_eq!(
        st.spans_exported + st.spans_dropped,
        st.spans_ended,
        "{st:?}"
    );
}

fn shutdown_refused(proto: Proto) {
    // The default timeouts (OTLP 10 s, batch export 30 s): before the fix this took 30 s.
    let p = Provider::from_config(config(&options(proto, proto.dead_endpoint(), &[]))).unwrap();
    assert_eq!(p.exit_timeout(), Duration::from_secs(10));
    produce(&p, "refused", 3000);
    let (shut, took) = timed(|| p.shutdown(p.exit_timeout()));
    shut.unwrap();
    assert!(
        took < Duration::from_secs(1),
        "a refused connection was retried at shutdown: {took:?}"
    );
    assert_counted(&p, 3000);
    assert_eq!(p.stats().spans_dropped, 3000);
}

#[test]
fn shutdown_with_the_back_end_refusing_is_prompt_grpc() {
    shutdown_refused(Proto::Grpc);
}

#[test]
fn shutdown_with_the_back_end_refusing_is_prompt_http_protobuf() {
    shutdown_refused(Proto::HttpProtobuf);
}

/// A socket that accepts connections (the kernel's backlog) and never answers.
fn silent_endpoint() -> (std::net::TcpListener, (&'static str, OptionValue)) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("http://{}", l.local_addr().unwrap());
    (l, ("endpoint", s(&ep)))
}

fn shutdown_silent(proto: Proto) {
    let (_listener, ep) = silent_endpoint();
    let p = Provider::from_config(config(&options(proto, ep, &[("timeout", i(1_500))]))).unwrap();
    assert_eq!(p.exit_timeout(), Duration::from_millis(1_500));
    produce(&p, "silent", 3000);
    let (shut, took) = timed(|| p.shutdown(p.exit_timeout()));
    // The deadline cut the requests in flight: a Timeout, everything counted.
    assert_eq!(shut.unwrap_err().kind(), ErrorKind::Timeout);
    assert!(
        took >= Duration::from_millis(1_400) && took < Duration::from_millis(2_000),
        "shutdown took {took:?}"
    );
    assert_counted(&p, 3000);
}

#[test]
fn shutdown_with_a_silent_back_end_ends_by_its_deadline_grpc() {
    shutdown_silent(Proto::Grpc);
}

#[test]
fn shutdown_with_a_silent_back_end_ends_by_its_deadline_http_protobuf() {
    shutdown_silent(Proto::HttpProtobuf);
}

#[test]
fn shutdown_during_an_outage_is_prompt() {
    // The worker is mid-retry (back-off of up to 5 s, requests with a 30 s deadline) with both
    // request slots taken and more batches waiting when shutdown begins.
    let p = Provider::from_config(config(&options(
        Proto::HttpProtobuf,
        Proto::HttpProtobuf.dead_endpoint(),
        &[("schedule_delay", i(50)), ("max_export_batch_size", i(100))],
    )))
    .unwrap();
    produce(&p, "outage", 1000);
    std::thread::sleep(Duration::from_millis(1_500));
    let (shut, took) = timed(|| p.shutdown(Duration::from_secs(30)));
    shut.unwrap();
    assert!(took < Duration::from_secs(1), "shutdown took {took:?}");
    assert_counted(&p, 1000);
}

#[test]
fn a_back_end_that_answers_retry_is_retried_within_the_shutdown_deadline() {
    let r = Receiver::start(
        ReceiverConfig::http().with_faults(Faults::fail_first(1).with_http_status(503)),
    )
    .unwrap();
    let p = provider(Proto::HttpProtobuf, &r, &[]);
    let sent = produce(&p, "answered", 10);
    p.shutdown(p.exit_timeout()).unwrap();
    assert_arrived_once(&r, &sent);
    assert_eq!(p.stats().spans_exported, 10);
    r.shutdown();
}

#[test]
fn spans_ending_during_shutdown_are_all_counted() {
    // Producers keep ending spans while the shutdown takes its last batch: each is exported
    // or counted as dropped, none is left behind in the queue.
    let r = Receiver::start(ReceiverConfig::http().count_only()).unwrap();
    let p = provider(Proto::HttpProtobuf, &r, &[("schedule_delay", i(10))]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let (p, stop) = (p.clone(), stop.clone());
            std::thread::spawn(move || {
                let t = p.tracer("race", None, None, vec![]);
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    t.start_span("r", StartOptions::default()).end(None);
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    p.shutdown(WAIT).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let ended: u64 = producers.into_iter().map(|h| h.join().unwrap()).sum();
    let st = p.stats();
    // Spans started after the shutdown are non-recording: not counted as ended.
    assert!(st.spans_ended <= ended, "{st:?}");
    assert_eq!(
        st.spans_exported + st.spans_dropped,
        st.spans_ended,
        "{st:?}"
    );
    assert_eq!(r.span_count(), st.spans_exported, "{st:?}");
    r.shutdown();
}

/// The core's threads block SIGPIPE: a write to a connection the back end closed (a rejected
/// TLS handshake, a reset) must fail with EPIPE, not end a C host that keeps SIGPIPE's default
/// action (it did: `bindings/c/test.sh`, mTLS over gRPC without a client certificate).
#[cfg(target_os = "linux")]
#[test]
fn the_core_threads_block_sigpipe() {
    let (_listener, ep) = silent_endpoint();
    let sampling = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // The remote sampler's poller is one of the core's threads too.
    let arg = format!(
        "endpoint=http://{},pollingIntervalMs=60000,initialSamplingRate=1",
        sampling.local_addr().unwrap()
    );
    let extra = [("sampler", s("jaeger_remote")), ("sampler_arg", s(&arg))];
    let p = Provider::from_config(config(&options(Proto::Grpc, ep, &extra))).unwrap();
    produce(&p, "sigpipe", 1);
    // The export runtime's threads start with the first export: flush one, then look (for at
    // most 5 s, until every kind of the core's threads is there).
    let _ = p.force_flush(Duration::from_millis(300));
    let deadline = Instant::now() + Duration::from_secs(5);
    let seen = loop {
        let seen = core_threads_blocking_sigpipe();
        let all = seen.iter().any(|n| n == "polytrace-batch")
            && seen.iter().any(|n| n == "polytrace-sampl")
            && seen.iter().any(|n| n.starts_with("polytrace-expor"));
        if all || Instant::now() > deadline {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(seen.iter().any(|n| n == "polytrace-batch"), "{seen:?}");
    assert!(seen.iter().any(|n| n == "polytrace-sampl"), "{seen:?}");
    assert!(
        seen.iter().any(|n| n.starts_with("polytrace-expor")),
        "{seen:?}"
    );
    let _ = p.shutdown(Duration::from_millis(100));
}

/// The names of the core's threads in this process, asserting that each blocks SIGPIPE.
#[cfg(target_os = "linux")]
fn core_threads_blocking_sigpipe() -> Vec<String> {
    let mut seen = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        // Other tests' receivers (`polytrace-receiver`, shown cut to 15 bytes) run in this
        // process too: they are the test's threads, not the core's.
        if !name.starts_with("polytrace-") || name.starts_with("polytrace-recei") {
            continue;
        }
        let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
        let Some(blocked) = status
            .lines()
            .find_map(|l| l.strip_prefix("SigBlk:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        else {
            continue; // the thread ended meanwhile
        };
        // SIGPIPE is signal 13: bit 12 of the mask.
        assert_ne!(
            blocked & (1 << 12),
            0,
            "{} does not block SIGPIPE",
            name.trim()
        );
        seen.push(name.trim().to_string());
    }
    seen
}

// ---------------------------------------------------------------------------------------------
// 6. File and console exporters

#[test]
fn file_exporter_writes_otlp_json_lines() {
    let dir = temp_dir("file");
    let path = dir.join("traces.jsonl");
    let p = Provider::from_config(config(&[
        ("exporter", s("file")),
        ("file_path", s(path.to_str().unwrap())),
        ("service_name", s("file-test")),
        ("schedule_delay", i(60_000)),
        ("max_export_batch_size", i(2)),
    ]))
    .unwrap();
    let t = p.tracer("file-scope", Some("0.1".into()), None, vec![]);
    let mut root = t.start_span("root", StartOptions::default());
    root.set_attribute("n", 1i64);
    let mut sent = vec![];
    for k in 0..4 {
        let mut c = t.start_span(
            format!("child-{k}"),
            StartOptions {
                parent: Some(root.span_context()),
                ..Default::default()
            },
        );
        c.add_event(Event {
            name: "e".into(),
            time: Some(T0),
            attributes: vec![("k".into(), Value::Int(k))],
        });
        c.end(None);
        sent.push(c.span_context().clone());
    }
    root.end(None);
    sent.push(root.span_context().clone());
    p.force_flush(WAIT).unwrap();
    p.shutdown(WAIT).unwrap();
    assert_eq!(p.stats().spans_exported, 5);

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "5 spans in batches of 2: {text}");
    let mut got = vec![];
    for line in &lines {
        let req = polytrace_receiver::request_from_json(line.as_bytes())
            .unwrap_or_else(|e| panic!("not OTLP JSON: {e:?}: {line}"));
        for rs in &req.resource_spans {
            let res = &rs.resource.as_ref().unwrap().attributes;
            assert_eq!(proto_str(res, "service.name"), Some("file-test"));
            assert_eq!(proto_str(res, "telemetry.sdk.name"), Some("polytrace"));
            for ss in &rs.scope_spans {
                assert_eq!(ss.scope.as_ref().unwrap().name, "file-scope");
                got.extend(ss.spans.iter().cloned());
            }
        }
    }
    assert_eq!(got.len(), 5);
    let root_id = root.span_context().span_id.0;
    for c in &sent {
        let g = got
            .iter()
            .find(|g| g.span_id == c.span_id.0)
            .unwrap_or_else(|| panic!("{} missing", c.span_id));
        assert_eq!(g.trace_id, c.trace_id.0);
        if g.name != "root" {
            assert_eq!(g.parent_span_id, root_id);
            assert_eq!(g.events.len(), 1);
            assert_eq!(g.events[0].time_unix_nano, T0);
        } else {
            assert_eq!(proto_int(&g.attributes, "n"), Some(1));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn console_exporter_runs() {
    let p = Provider::from_config(config(&[
        ("exporter", s("console")),
        ("schedule_delay", i(60_000)),
    ]))
    .unwrap();
    let t = p.tracer("console", None, None, vec![]);
    let mut sp = t.start_span("console-span", StartOptions::default());
    sp.set_attribute("a", Value::StringArray(vec!["x".into()]));
    sp.add_event(Event {
        name: "e".into(),
        time: None,
        attributes: vec![],
    });
    sp.set_status(Status::Error("boom".into()));
    sp.end(None);
    produce(&p, "console", 3);
    p.force_flush(WAIT).unwrap();
    p.shutdown(WAIT).unwrap();
    let st = p.stats();
    assert_eq!(st.spans_exported, 4, "{st:?}");
    assert_eq!(st.export_failures, 0, "{st:?}");
}

// ---------------------------------------------------------------------------------------------
// 7. The configuration is the only source: explicit options win over the OTLP environment

const ENV_CHILD: &str = "POLYTRACE_EXPORT_TEST_ENV_CHILD";

/// Runs `test` of this binary again in a child process with `env` set (the process
/// environment cannot be changed safely while other tests run on threads), bounded in time.
fn run_in_child(test: &str, env: &[(&str, &str)]) {
    let dir = temp_dir("env-child");
    let out = dir.join("out.txt");
    let file = std::fs::File::create(&out).unwrap();
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    // `--include-ignored`: the child must run the test even when it is ignored by default.
    cmd.args([
        test,
        "--exact",
        "--include-ignored",
        "--test-threads=1",
        "--nocapture",
    ])
    .env(ENV_CHILD, "1")
    .stdin(std::process::Stdio::null())
    .stdout(file.try_clone().unwrap())
    .stderr(file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    match status {
        Some(st) if st.success() => {}
        Some(st) => panic!("child test {test} failed ({st}):\n{output}"),
        None => panic!("child test {test} hung:\n{output}"),
    }
}

/// The OTLP environment every child below runs with.
const OTLP_ENV: &[(&str, &str)] = &[
    (
        "OTEL_EXPORTER_OTLP_HEADERS",
        "x-generic=env,x-both=generic-env",
    ),
    (
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "x-signal=env,x-both=signal-env",
    ),
    ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
];

/// Exports one span through a provider made by `make` and returns the request that carried it.
fn export_one(r: &Receiver, p: Provider) -> polytrace_receiver::ReceivedRequest {
    let before = r.span_count();
    produce(&p, "env", 1);
    p.force_flush(WAIT).unwrap();
    p.shutdown(WAIT).unwrap();
    assert!(r.wait_for_spans(before + 1, WAIT));
    r.requests().pop().unwrap()
}

fn owned(opts: Vec<(&'static str, OptionValue)>) -> Vec<(String, OptionValue)> {
    opts.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[test]
fn otlp_environment_is_honoured() {
    if std::env::var_os(ENV_CHILD).is_none() {
        run_in_child("otlp_environment_is_honoured", OTLP_ENV);
        return;
    }
    for proto in [Proto::Grpc, Proto::HttpProtobuf, Proto::HttpJson] {
        let r = Receiver::start(proto.receiver()).unwrap();
        // No options: the per-signal headers replace the generic ones (no merge), and the
        // compression comes from the environment.
        let opts = owned(options(proto, proto.endpoint(&r), &[]));
        let req = export_one(&r, Provider::new(&opts).unwrap());
        assert_eq!(req.header("x-both"), Some("signal-env"), "{proto:?}");
        assert_eq!(req.header("x-signal"), Some("env"), "{proto:?}");
        assert_eq!(req.header("x-generic"), None, "{proto:?}");
        assert!(req.compressed, "{proto:?}");
        r.shutdown();
    }
}

/// The resolved configuration (explicit option > environment > default) is exactly what goes
/// on the wire: the environment's headers are not merged back in over explicit ones.
#[test]
fn explicit_options_win_over_the_otlp_environment() {
    explicit_over_env(&[Proto::Grpc, Proto::HttpProtobuf, Proto::HttpJson], false);
}

/// Explicit `compression=none` under `OTEL_EXPORTER_OTLP_COMPRESSION=gzip`: the gRPC request
/// goes out uncompressed (the core's own transport compresses only when the resolved
/// configuration says gzip).
#[test]
fn explicit_compression_none_wins_over_the_environment_for_grpc() {
    explicit_over_env(&[Proto::Grpc], true);
}

fn explicit_over_env(protos: &[Proto], check_grpc_compression: bool) {
    let name = if check_grpc_compression {
        "explicit_compression_none_wins_over_the_environment_for_grpc"
    } else {
        "explicit_options_win_over_the_otlp_environment"
    };
    if std::env::var_os(ENV_CHILD).is_none() {
        run_in_child(name, OTLP_ENV);
        return;
    }
    for &proto in protos {
        let r = Receiver::start(proto.receiver()).unwrap();
        let explicit = [("headers", s("x-both=option")), ("compression", s("none"))];
        // Resolved with an empty environment (as the shared vectors do) or with the real one
        // under explicit options: either way the exporter must send exactly the configuration.
        let from_config = provider(proto, &r, &explicit);
        let from_env = Provider::new(&owned(options(proto, proto.endpoint(&r), &explicit)));
        for (how, p) in [("resolved", from_config), ("from_env", from_env.unwrap())] {
            assert_eq!(
                p.config().otlp.headers,
                vec![("x-both".into(), "option".into())]
            );
            let req = export_one(&r, p);
            let what = format!("{proto:?} {how}: {:?}", req.headers);
            assert_eq!(req.header("x-both"), Some("option"), "{what}");
            assert_eq!(req.header("x-signal"), None, "{what}");
            assert_eq!(req.header("x-generic"), None, "{what}");
            if proto != Proto::Grpc || check_grpc_compression {
                assert!(!req.compressed, "{what}: compression=none was ignored");
            }
        }
        r.shutdown();
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Slow answers and partial success (a hand-written OTLP/HTTP back end)

/// A minimal OTLP/HTTP back end on 127.0.0.1: it answers each request after `delay` with a
/// 200 and a protobuf `ExportTraceServiceResponse` rejecting `rejected` spans. It counts the
/// spans it was sent. Stopped (bounded) on drop.
struct SlowBackend {
    port: u16,
    spans: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SlowBackend {
    fn start(delay: Duration, rejected: i64) -> SlowBackend {
        use std::io::{BufRead, BufReader, Read, Write};
        use std::sync::atomic::Ordering::SeqCst;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let spans = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (spans2, stop2) = (spans.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut conns = Vec::new();
            while !stop2.load(SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let (spans, stop) = (spans2.clone(), stop2.clone());
                conns.push(std::thread::spawn(move || {
                    stream.set_nonblocking(false).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_millis(200)))
                        .unwrap();
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut out = stream;
                    while !stop.load(SeqCst) {
                        // Request line and headers.
                        let mut len = 0usize;
                        let mut line = String::new();
                        match reader.read_line(&mut line) {
                            Ok(0) => return,
                            Ok(_) => {}
                            Err(_) => continue, // read timeout: check `stop` again
                        }
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let l = line.trim_end();
                            if l.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = l.split_once(':') {
                                if k.eq_ignore_ascii_case("content-length") {
                                    len = v.trim().parse().unwrap();
                                }
                            }
                        }
                        let mut body = vec![0u8; len];
                        reader.read_exact(&mut body).unwrap();
                        use prost::Message as _;
                        use polytrace_receiver::opentelemetry_proto::tonic::collector::trace::v1::{
                            ExportTracePartialSuccess, ExportTraceServiceRequest,
                            ExportTraceServiceResponse,
                        };
                        let req = ExportTraceServiceRequest::decode(&body[..]).unwrap();
                        let n: usize = req
                            .resource_spans
                            .iter()
                            .flat_map(|r| &r.scope_spans)
                            .map(|s| s.spans.len())
                            .sum();
                        std::thread::sleep(delay);
                        spans.fetch_add(n as u64, SeqCst);
                        let resp = ExportTraceServiceResponse {
                            partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
                                rejected_spans: rejected,
                                error_message: "too old".into(),
                            }),
                        }
                        .encode_to_vec();
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n\r\n",
                            resp.len()
                        );
                        if out.write_all(head.as_bytes()).is_err() || out.write_all(&resp).is_err()
                        {
                            return;
                        }
                    }
                }));
            }
            for c in conns {
                let _ = c.join();
            }
        });
        SlowBackend {
            port,
            spans,
            stop,
            thread: Some(thread),
        }
    }

    fn spans(&self) -> u64 {
        self.spans.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for SlowBackend {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn slow_provider(b: &SlowBackend, batch: i64) -> Provider {
    let ep = format!("http://127.0.0.1:{}/v1/traces", b.port);
    Provider::from_config(config(&options(
        Proto::HttpProtobuf,
        ("traces_endpoint", s(&ep)),
        &[("max_export_batch_size", i(batch))],
    )))
    .unwrap()
}

/// Requests are pipelined, yet force_flush returns only once every request in flight has been
/// answered, and only answered spans count as exported.
#[test]
fn flush_waits_for_requests_in_flight() {
    let b = SlowBackend::start(Duration::from_millis(400), 0);
    let p = slow_provider(&b, 2);
    produce(&p, "slow", 6); // 3 requests of 2 spans
    let (flushed, took) = timed(|| p.force_flush(WAIT));
    flushed.unwrap();
    assert_eq!(
        b.spans(),
        6,
        "flush returned before the back end had everything"
    );
    let st = p.stats();
    assert_eq!(st.spans_exported, 6, "{st:?}");
    assert_eq!(st.spans_dropped, 0, "{st:?}");
    // 3 requests, 2 at a time, 400 ms each: at least 2 rounds, at most a little over 3.
    assert!(took >= Duration::from_millis(700), "flush took {took:?}");
    produce(&p, "slow-shutdown", 2);
    p.shutdown(WAIT).unwrap();
    assert_eq!(
        b.spans(),
        8,
        "shutdown returned before the last request was answered"
    );
    assert_eq!(p.stats().spans_exported, 8);
}

/// A partial success: the rejected spans are counted as dropped (not exported), the request
/// is not a failure and is not retried.
#[test]
fn partial_success_counts_rejected_spans() {
    let b = SlowBackend::start(Duration::ZERO, 2);
    let p = slow_provider(&b, 512);
    produce(&p, "partial", 5);
    p.force_flush(WAIT).unwrap();
    let st = p.stats();
    assert_eq!(b.spans(), 5, "sent once, not retried");
    assert_eq!(st.spans_exported, 3, "{st:?}");
    assert_eq!(st.dropped_export_failed, 2, "{st:?}");
    assert_eq!(st.export_failures, 0, "{st:?}");
    p.shutdown(WAIT).unwrap();
}
