//! `polytrace`: tools around the polytrace pipeline.
//!
//! - `polytrace receive` runs a local OTLP receiver (gRPC and HTTP) and appends
//!   every export request to a file as one OTLP/JSON line, so any service
//!   instrumented with polytrace (or any OpenTelemetry SDK) can be pointed at
//!   it during development.
//! - `polytrace view` prints the traces in such a file (or one written by the
//!   core's file exporter or the Collector's file exporter) as waterfalls.

#![forbid(unsafe_code)]

mod receive;
mod svg;
mod view;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use polytrace_receiver::opentelemetry_proto::tonic::common::v1::any_value::Value;
use polytrace_receiver::opentelemetry_proto::tonic::trace::v1::ResourceSpans;
use polytrace_receiver::Code;

/// polytrace tools: a local OTLP receiver and a terminal trace viewer.
#[derive(Debug, Parser)]
#[command(name = "polytrace", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a local OTLP receiver; write each request as one OTLP/JSON line.
    ///
    /// Prints `listening grpc=ADDR http=ADDR` on stderr once bound, one line
    /// per request, and totals when stopped with Ctrl-C or SIGTERM.
    Receive(ReceiveArgs),
    /// Print the traces in an OTLP/JSON lines file as indented waterfalls.
    View(ViewArgs),
}

/// Options of `polytrace receive`.
#[derive(Debug, Args)]
pub(crate) struct ReceiveArgs {
    /// OTLP/gRPC listen address (ADDR:PORT, localhost:PORT or PORT; port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4317", value_parser = parse_addr)]
    pub(crate) grpc: SocketAddr,
    /// OTLP/HTTP listen address (serves POST /v1/traces, protobuf or JSON).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4318", value_parser = parse_addr)]
    pub(crate) http: SocketAddr,
    /// Don't start the gRPC server.
    #[arg(long, conflicts_with = "no_http")]
    pub(crate) no_grpc: bool,
    /// Don't start the HTTP server.
    #[arg(long)]
    pub(crate) no_http: bool,
    /// Append OTLP/JSON lines to FILE (flushed per request) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Throughput mode for benchmarks: protobuf requests are only walked on the wire format
    /// to count their spans (not decoded, not written anywhere), and the running total is
    /// printed to standard error as `received N spans` whenever it changes (at most every
    /// 50 ms). Keeps the receiver's own CPU use small next to the exporter it measures.
    #[arg(long, conflicts_with = "out")]
    pub(crate) count_only: bool,
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// Private key (PEM) for --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (PEM): mutual TLS.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub(crate) tls_client_ca: Option<PathBuf>,
    /// Fail the first N requests, to exercise exporters' retries.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) fail_first: u64,
    /// HTTP status of failed requests.
    #[arg(long, value_name = "STATUS", default_value_t = 503, value_parser = clap::value_parser!(u16).range(400..=599))]
    pub(crate) fail_status: u16,
    /// gRPC code of failed requests (name like `unavailable`, `resource_exhausted`, or number).
    #[arg(long, value_name = "CODE", default_value = "unavailable", value_parser = parse_code)]
    pub(crate) fail_grpc_code: Code,
    /// Throttling hint on failed requests, in seconds: HTTP Retry-After and gRPC RetryInfo.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub(crate) retry_after: Option<std::time::Duration>,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// When standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Options of `polytrace view`.
#[derive(Debug, Args)]
pub(crate) struct ViewArgs {
    /// OTLP/JSON lines file (`-` for standard input).
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Show only this trace (32 hex digits, any case).
    #[arg(long, value_name = "TRACE_ID")]
    pub(crate) trace: Option<String>,
    /// Colour the output.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub(crate) color: ColorChoice,
    /// Also draw the shown traces as an SVG waterfall into FILE: services coloured, errors
    /// marked, calls and messaging hops between services drawn.
    #[arg(long, value_name = "FILE")]
    pub(crate) svg: Option<PathBuf>,
}

/// `4317`, `localhost:4317`, `127.0.0.1:4317`, `[::1]:4317`.
fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let loopback = |port: &str| {
        port.parse::<u16>()
            .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p))
            .map_err(|e| format!("invalid port {port:?}: {e}"))
    };
    if let Some(port) = s.strip_prefix("localhost:") {
        return loopback(port);
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return loopback(s);
    }
    s.parse()
        .map_err(|_| format!("invalid address {s:?}: expected IP:PORT, localhost:PORT or PORT"))
}

fn parse_code(s: &str) -> Result<Code, String> {
    if let Ok(n) = s.parse::<i32>() {
        let code = Code::from_i32(n);
        return if code as i32 == n && n != 0 {
            Ok(code)
        } else {
            Err(format!("{n} is not a gRPC error code (1-16)"))
        };
    }
    let name = s.to_ascii_lowercase().replace('-', "_");
    (1..=16)
        .map(Code::from_i32)
        .find(|c| format!("{c:?}").to_ascii_lowercase() == name.replace('_', ""))
        .ok_or_else(|| format!("unknown gRPC code {s:?} (e.g. unavailable, resource_exhausted)"))
}

fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|f| std::time::Duration::try_from_secs_f64(f).ok())
        .ok_or_else(|| format!("invalid number of seconds {s:?}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Receive(args) => receive::run(&args),
        Command::View(args) => view::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("polytrace: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The `service.name` resource attribute of a `ResourceSpans`, or `?` when it has none.
pub(crate) fn service_name(rs: &ResourceSpans) -> String {
    rs.resource
        .iter()
        .flat_map(|res| res.attributes.iter())
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(Value::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(parse_addr("4317").unwrap().to_string(), "127.0.0.1:4317");
        assert_eq!(
            parse_addr("localhost:0").unwrap().to_string(),
            "127.0.0.1:0"
        );
        assert_eq!(parse_addr("[::1]:9").unwrap().to_string(), "[::1]:9");
        assert!(parse_addr("nope").is_err());
        assert!(parse_addr("99999").is_err());
    }

    #[test]
    fn codes() {
        assert_eq!(parse_code("unavailable").unwrap(), Code::Unavailable);
        assert_eq!(
            parse_code("RESOURCE_EXHAUSTED").unwrap(),
            Code::ResourceExhausted
        );
        assert_eq!(
            parse_code("resource-exhausted").unwrap(),
            Code::ResourceExhausted
        );
        assert_eq!(parse_code("8").unwrap(), Code::ResourceExhausted);
        assert!(parse_code("0").is_err());
        assert!(parse_code("42").is_err());
        assert!(parse_code("sad").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
