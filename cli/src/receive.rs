//! `polytrace receive`: the receiver library behind a command line.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;

use parking_lot::Mutex;
use polytrace_receiver::{
    request_to_json_line, Faults, ReceivedRequest, Receiver, ReceiverConfig, TlsConfig,
};

use crate::ReceiveArgs;

/// Where request lines go, and how many went.
struct Sink {
    out: Box<dyn Write + Send>,
    target: String,
    accepted: u64,
    written: u64,
    failed: bool,
}

impl Sink {
    fn write(&mut self, line: &str) {
        self.accepted += 1;
        let result = writeln!(self.out, "{line}").and_then(|()| self.out.flush());
        match result {
            Ok(()) => self.written += 1,
            // Report once, keep receiving: the client still gets its answer.
            Err(e) if !self.failed => {
                self.failed = true;
                eprintln!("polytrace: writing to {}: {e}", self.target);
            }
            Err(_) => {}
        }
    }
}

/// The distinct `service.name`s of a request, in order of appearance.
fn services(r: &ReceivedRequest) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rs in &r.request.resource_spans {
        let name = crate::service_name(rs);
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// SIGINT and SIGTERM handlers. Installed before the receiver announces
/// itself, so a signal sent right after the `listening` line is not lost (nor
/// does it kill the process with the default disposition).
struct Signals {
    runtime: tokio::runtime::Runtime,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> io::Result<Signals> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let _enter = runtime.enter();
            let int = signal(SignalKind::interrupt())?;
            let term = signal(SignalKind::terminate())?;
            Ok(Signals { runtime, int, term })
        }
        #[cfg(not(unix))]
        Ok(Signals { runtime })
    }

    /// Returns the name of the signal that arrived. Meanwhile `tick`, when given, runs every
    /// 50 ms.
    fn wait(mut self, mut tick: Option<&mut dyn FnMut()>) -> &'static str {
        #[cfg(unix)]
        {
            let (int, term) = (&mut self.int, &mut self.term);
            self.runtime.block_on(async {
                let mut every = tokio::time::interval(std::time::Duration::from_millis(50));
                loop {
                    tokio::select! {
                        _ = int.recv() => return "SIGINT",
                        _ = term.recv() => return "SIGTERM",
                        _ = every.tick(), if tick.is_some() => {
                            if let Some(t) = tick.as_mut() {
                                t();
                            }
                        }
                    }
                }
            })
        }
        #[cfg(not(unix))]
        {
            let _ = &mut tick;
            let _ = self.runtime.block_on(tokio::signal::ctrl_c());
            "Ctrl-C"
        }
    }
}

pub(crate) fn run(args: &ReceiveArgs) -> Result<ExitCode, String> {
    let (out, target): (Box<dyn Write + Send>, String) = match &args.out {
        Some(path) => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            (Box::new(file), path.display().to_string())
        }
        None => (Box::new(io::stdout()), "standard output".into()),
    };
    let sink = Arc::new(Mutex::new(Sink {
        out,
        target: target.clone(),
        accepted: 0,
        written: 0,
        failed: false,
    }));

    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            TlsConfig::from_files(cert, key, args.tls_client_ca.as_deref())
                .map_err(|e| e.to_string())?,
        ),
        _ => None,
    };
    let mut faults = Faults::fail_first(args.fail_first)
        .with_http_status(args.fail_status)
        .with_grpc_code(args.fail_grpc_code);
    faults.retry_after = args.retry_after;

    let hook_sink = Arc::clone(&sink);
    let config = ReceiverConfig {
        grpc_addr: (!args.no_grpc).then_some(args.grpc),
        http_addr: (!args.no_http).then_some(args.http),
        tls,
        faults,
        count_only: args.count_only,
        // Requests go to the sink; keeping them too would grow without bound.
        keep_requests: false,
        on_request: (!args.count_only).then(|| -> polytrace_receiver::RequestHook {
            Arc::new(move |r: &ReceivedRequest| {
                let line = request_to_json_line(&r.request);
                let mut sink = hook_sink.lock();
                sink.write(&line);
                eprintln!(
                    "request {}: {}{}, {} spans, services: {}",
                    sink.accepted,
                    r.transport,
                    if r.compressed { " (gzip)" } else { "" },
                    r.span_count(),
                    services(r).join(", "),
                );
            })
        }),
    };

    let signals = Signals::install().map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let receiver = Receiver::start(config).map_err(|e| e.to_string())?;
    for addr in [receiver.grpc_addr(), receiver.http_addr()]
        .into_iter()
        .flatten()
    {
        if !addr.ip().is_loopback() {
            eprintln!("polytrace: warning: {addr} is reachable from other machines");
        }
    }
    let mut listening = String::from("listening");
    if let Some(a) = receiver.grpc_addr() {
        listening.push_str(&format!(" grpc={a}"));
    }
    if let Some(a) = receiver.http_addr() {
        listening.push_str(&format!(" http={a}"));
    }
    eprintln!("{listening}");
    if let Some(e) = receiver.grpc_endpoint() {
        eprintln!("  OTEL_EXPORTER_OTLP_ENDPOINT={e} OTEL_EXPORTER_OTLP_PROTOCOL=grpc");
    }
    if let Some(e) = receiver.http_endpoint() {
        eprintln!(
            "  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={e} OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"
        );
    }

    // In count-only mode nothing is decoded per request: the total is reported as it grows.
    let mut reported = 0;
    let mut report_total = || {
        let spans = receiver.span_count();
        if spans != reported {
            reported = spans;
            eprintln!("received {spans} spans");
        }
    };
    let signal = signals.wait(if args.count_only {
        Some(&mut report_total)
    } else {
        None
    });
    let requests = receiver.request_count();
    let spans = receiver.span_count();
    receiver.shutdown();
    let (accepted, written) = {
        let sink = sink.lock();
        (sink.accepted, sink.written)
    };
    if args.count_only {
        eprintln!(
            "{signal}: stopped. {requests} requests received, {spans} spans counted (count-only: nothing written)"
        );
    } else {
        eprintln!(
            "{signal}: stopped. {requests} requests received, {accepted} accepted, {spans} spans; {written} lines written to {target}"
        );
    }
    Ok(ExitCode::SUCCESS)
}
