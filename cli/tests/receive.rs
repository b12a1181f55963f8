//! `polytrace receive` as a process: bind ephemeral ports, take requests over
//! gRPC and HTTP, stop on SIGTERM and SIGINT, leave an OTLP/JSON lines file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use polytrace_receiver::opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use polytrace_receiver::opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use polytrace_receiver::opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use polytrace_receiver::{request_from_json, request_to_json_line};
use prost::Message as _;

const LIMIT: Duration = Duration::from_secs(20);

/// The child process, killed on drop so a failing test leaves nothing behind.
struct Receive {
    child: Child,
    stderr: mpsc::Receiver<String>,
    lines: Vec<String>,
}

impl Drop for Receive {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receive {
    fn start(args: &[&str]) -> Receive {
        let mut child = Command::new(env!("CARGO_BIN_EXE_polytrace"))
            .arg("receive")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Receive {
            child,
            stderr: rx,
            lines: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `needle`.
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.lines.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no {needle:?} on stderr; got {:#?}", self.lines),
            }
        }
    }

    /// `listening grpc=127.0.0.1:PORT http=127.0.0.1:PORT`
    fn addresses(&mut self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        let line = self.expect("listening");
        let find = |key: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .map(|a| a.parse().unwrap())
        };
        (find("grpc="), find("http="))
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Everything the process wrote to standard output (call after it stopped).
    fn stdout(&mut self) -> String {
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "receive did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn request(service: &str, spans: usize) -> ExportTraceServiceRequest {
    let mut req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (0..spans)
                    .map(|i| Span {
                        trace_id: vec![7; 16],
                        span_id: vec![i as u8 + 1; 8],
                        name: format!("{service}-{i}"),
                        kind: 2,
                        start_time_unix_nano: 1_700_000_000_000_000_000,
                        end_time_unix_nano: 1_700_000_000_001_000_000,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let attrs = &mut req.resource_spans[0];
    attrs.resource = Some(polytrace_receiver::opentelemetry_proto::tonic::resource::v1::Resource {
        attributes: vec![polytrace_receiver::opentelemetry_proto::tonic::common::v1::KeyValue {
            key: "service.name".into(),
            value: Some(polytrace_receiver::opentelemetry_proto::tonic::common::v1::AnyValue {
                value: Some(
                    polytrace_receiver::opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                        service.into(),
                    ),
                ),
            }),
            key_strindex: 0,
        }],
        ..Default::default()
    });
    req
}

/// A minimal HTTP/1.1 POST; returns the status line.
fn post(addr: SocketAddr, content_type: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect_timeout(&addr, LIMIT).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    write!(
        s,
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply.lines().next().unwrap_or_default().to_string()
}

fn grpc_export(addr: SocketAddr, req: ExportTraceServiceRequest) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut client = TraceServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        client.export(req).await.unwrap();
    });
}

fn out_file(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn receives_writes_and_stops_on_sigterm() {
    let out = out_file("receive");
    let mut rx = Receive::start(&[
        "--grpc",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (grpc, http) = rx.addresses();
    let (grpc, http) = (grpc.unwrap(), http.unwrap());
    assert!(grpc.ip().is_loopback() && grpc.port() != 0);
    assert!(http.ip().is_loopback() && http.port() != 0 && http != grpc);

    let sent = [
        request("grpc-svc", 2),
        request("proto-svc", 3),
        request("json-svc", 1),
    ];
    grpc_export(grpc, sent[0].clone());
    assert!(
        post(http, "application/x-protobuf", &sent[1].encode_to_vec()).starts_with("HTTP/1.1 200")
    );
    assert!(post(
        http,
        "application/json",
        request_to_json_line(&sent[2]).as_bytes()
    )
    .starts_with("HTTP/1.1 200"));
    assert!(post(http, "application/json", b"{not json").starts_with("HTTP/1.1 400"));
    assert!(rx
        .expect("request 1:")
        .contains("grpc, 2 spans, services: grpc-svc"));
    assert!(rx.expect("request 2:").contains("http/protobuf, 3 spans"));
    assert!(rx
        .expect("request 3:")
        .contains("http/json, 1 spans, services: json-svc"));

    // Flushed per request: complete before the process stops.
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.lines().count(), 3, "{written}");

    rx.signal("TERM");
    let status = rx.wait();
    assert!(status.success(), "{status:?}");
    let totals = rx.expect("stopped");
    assert!(totals.starts_with("SIGTERM"), "{totals}");
    assert!(
        totals.contains("4 requests received, 3 accepted, 6 spans; 3 lines written"),
        "{totals}"
    );

    let written = std::fs::read_to_string(&out).unwrap();
    let got: Vec<ExportTraceServiceRequest> = written
        .lines()
        .map(|l| request_from_json(l.as_bytes()).unwrap())
        .collect();
    assert_eq!(got, sent);
    // The ports are free again.
    assert!(TcpStream::connect(grpc).is_err() && TcpStream::connect(http).is_err());

    // The file is what `view` reads.
    let view = Command::new(env!("CARGO_BIN_EXE_polytrace"))
        .args(["view", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(view.status.success());
    let text = String::from_utf8(view.stdout).unwrap();
    assert!(
        text.contains("6 spans") && text.contains("json-svc-0"),
        "{text}"
    );
}

#[test]
fn count_only_counts_on_the_wire_and_writes_nothing() {
    let mut rx = Receive::start(&[
        "--grpc",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--count-only",
    ]);
    let (grpc, http) = rx.addresses();
    let (grpc, http) = (grpc.unwrap(), http.unwrap());
    grpc_export(grpc, request("grpc-svc", 2));
    assert!(rx.expect("received ").ends_with("received 2 spans"));
    assert!(post(
        http,
        "application/x-protobuf",
        &request("proto-svc", 3).encode_to_vec()
    )
    .starts_with("HTTP/1.1 200"));
    // Not protobuf: refused, and not counted.
    assert!(post(http, "application/x-protobuf", &[0xff; 7]).starts_with("HTTP/1.1 400"));
    assert!(rx.expect("received ").ends_with("received 5 spans"));

    rx.signal("TERM");
    assert!(rx.wait().success());
    let totals = rx.expect("stopped");
    assert!(
        totals.contains("3 requests received, 5 spans counted"),
        "{totals}"
    );
    // Nothing per request: no JSON on standard output, no request lines on stderr.
    let stdout = rx.stdout();
    assert_eq!(stdout, "");
    assert!(
        !rx.lines.iter().any(|l| l.starts_with("request ")),
        "{:#?}",
        rx.lines
    );

    // --out makes no sense with it.
    let both = Command::new(env!("CARGO_BIN_EXE_polytrace"))
        .args(["receive", "--count-only", "--out", "/dev/null"])
        .output()
        .unwrap();
    assert!(!both.status.success());
    assert!(String::from_utf8_lossy(&both.stderr).contains("--count-only"));
}

#[test]
fn appends_to_stdout_without_out_and_stops_on_sigint() {
    let mut rx = Receive::start(&["--http", "127.0.0.1:0", "--no-grpc"]);
    let (grpc, http) = rx.addresses();
    assert_eq!(grpc, None);
    let http = http.unwrap();
    assert!(post(
        http,
        "application/x-protobuf",
        &request("s", 1).encode_to_vec()
    )
    .starts_with("HTTP/1.1 200"));
    rx.expect("request 1:");
    rx.signal("INT");
    assert!(rx.wait().success());
    assert!(rx.expect("stopped").starts_with("SIGINT"));
    let stdout = rx.stdout();
    assert_eq!(stdout.lines().count(), 1);
    assert_eq!(
        request_from_json(stdout.trim().as_bytes()).unwrap(),
        request("s", 1)
    );
}

#[test]
fn injected_faults() {
    let mut rx = Receive::start(&[
        "--http",
        "0",
        "--no-grpc",
        "--fail-first",
        "1",
        "--fail-status",
        "429",
        "--retry-after",
        "2",
    ]);
    let http = rx.addresses().1.unwrap();
    let body = request("s", 1).encode_to_vec();
    assert!(post(http, "application/x-protobuf", &body).starts_with("HTTP/1.1 429"));
    assert!(post(http, "application/x-protobuf", &body).starts_with("HTTP/1.1 200"));
    rx.signal("TERM");
    assert!(rx.wait().success());
    assert!(rx
        .expect("stopped")
        .contains("2 requests received, 1 accepted"));
}

#[test]
fn busy_port_fails_cleanly() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut rx = Receive::start(&["--grpc", &port, "--no-http"]);
    let status = rx.wait();
    assert_eq!(status.code(), Some(1));
    assert!(rx.expect("polytrace:").contains("cannot bind"));
}
