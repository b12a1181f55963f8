//! `NativeProvider`: one core pipeline behind the JavaScript `TracerProvider`
//! (`lib/provider.js`). Everything here is called rarely (construction, tracers, flush,
//! shutdown, stats, the general propagation path); the per-span traffic goes through the raw
//! functions of [`crate::raw`], bound to the same [`Shared`] state.

use crate::convert::{self, JsStats, OptionArg};
use crate::error::{guard, guard_js, throw, to_pair, Code};
use napi::bindgen_prelude::{AsyncTask, Env, Object};
use napi::Result;
use napi::Task;
use napi_derive::napi;
use parking_lot::{Mutex, RwLock};
use polytrace_core::config::{self, OptionValue};
use polytrace_core::finished::Decoder;
use polytrace_core::{Provider, Tracer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Batches waiting for the decoder thread, at most (each at most ~64 KiB): memory stays
/// bounded, and a producer faster than the decoder waits for CPU, never for export.
const DECODE_QUEUE: usize = 8;

/// What the decoder thread is sent.
enum Msg {
    /// A batch in the core's finished-span format (`docs/finished-spans.md`).
    Batch(Vec<u8>),
    /// Answered once every earlier batch is recorded.
    Barrier(std::sync::mpsc::SyncSender<()>),
}

/// What the class and its raw hot-path functions share.
pub struct Shared {
    /// The core pipeline.
    pub provider: Provider,
    /// Tracers by the number JavaScript knows them by (append-only).
    pub tracers: Arc<RwLock<Vec<Tracer>>>,
    /// Decoding state of the finished-span batches (used inline, or by the decoder thread).
    decoder: Arc<Mutex<Decoder>>,
    /// The decoder thread's queue; `None` decodes on the calling (JavaScript) thread.
    tx: Option<std::sync::mpsc::SyncSender<Msg>>,
    /// Set when a batch could not be decoded: JavaScript must number its strings afresh.
    reset: Arc<AtomicBool>,
}

/// Records one batch with `decoder`. A batch the core cannot read (a bug) is counted by the
/// core; JavaScript is asked to number its strings afresh. Never panics.
fn record(
    provider: &Provider,
    tracers: &RwLock<Vec<Tracer>>,
    decoder: &Mutex<Decoder>,
    reset: &AtomicBool,
    buf: &[u8],
) {
    let mut d = decoder.lock();
    let r = polytrace_core::guard(|| d.submit(provider, &tracers.read(), buf));
    if let Err(e) = r {
        reset.store(true, Ordering::Relaxed);
        polytrace_core::diag::emit_once(
            polytrace_core::diag::Level::Error,
            "node-batch",
            &format!("a batch of spans was lost (counted in stats().droppedInvalid): {e}"),
        );
    }
}

impl Shared {
    fn new(provider: Provider, threaded: bool) -> Shared {
        let tracers = Arc::new(RwLock::new(Vec::new()));
        let decoder = Arc::new(Mutex::new(Decoder::new()));
        let reset = Arc::new(AtomicBool::new(false));
        let tx = if threaded {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(DECODE_QUEUE);
            let (p, t, d, r) = (
                provider.clone(),
                tracers.clone(),
                decoder.clone(),
                reset.clone(),
            );
            let spawned = std::thread::Builder::new()
                .name("polytrace-node".into())
                .spawn(move || {
                    // Ends when the provider and its functions are gone (the sender drops).
                    for msg in rx {
                        match msg {
                            Msg::Batch(buf) => record(&p, &t, &d, &r, &buf),
                            Msg::Barrier(done) => {
                                let _ = done.send(());
                            }
                        }
                    }
                });
            // Without a thread, decode inline.
            spawned.ok().map(|_| tx)
        } else {
            None
        };
        Shared {
            provider,
            tracers,
            decoder,
            tx,
            reset,
        }
    }

    /// Hands over one batch in the core's finished-span format. Returns 1 when JavaScript
    /// must number its strings afresh (and set the `fresh` flag on its next batch), else 0.
    pub fn submit(&self, buf: &[u8]) -> u32 {
        match &self.tx {
            Some(tx) => {
                if tx.send(Msg::Batch(buf.to_vec())).is_err() {
                    // The thread is gone (it cannot be while we hold the sender): decode here.
                    self.record_inline(buf);
                }
            }
            None => self.record_inline(buf),
        }
        u32::from(self.reset.swap(false, Ordering::Relaxed))
    }

    fn record_inline(&self, buf: &[u8]) {
        record(
            &self.provider,
            &self.tracers,
            &self.decoder,
            &self.reset,
            buf,
        );
    }

    /// Waits until every batch handed over so far is recorded in the core.
    pub fn drain(&self) {
        if let Some(tx) = &self.tx {
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
            if tx.send(Msg::Barrier(done_tx)).is_ok() {
                let _ = done_rx.recv();
            }
        }
    }
}

/// The core pipeline of one JavaScript `TracerProvider`.
#[napi]
pub struct NativeProvider {
    shared: Arc<Shared>,
}

/// The context and decision of a span started by asking the core (a sampler whose decision
/// is not fixed; see `plan`).
#[napi(object)]
pub struct Begun {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// W3C trace flags.
    pub flags: u32,
    /// Whether the span records.
    pub recording: bool,
    /// The trace id and span id as six big-endian 32-bit words.
    pub words: Vec<u32>,
}

/// A span context crossing from JavaScript (hex ids, as the API keeps them).
#[napi(object)]
pub struct ContextArg {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// W3C trace flags.
    pub flags: u32,
    /// Serialized `tracestate`, if any.
    pub trace_state: Option<String>,
    /// Whether it came from another process.
    pub is_remote: bool,
}

/// What `extract` found.
#[napi(object)]
pub struct Extracted {
    /// A valid remote parent was found.
    pub valid: bool,
    /// 32 hex digits (empty when not valid).
    pub trace_id: String,
    /// 16 hex digits (empty when not valid).
    pub span_id: String,
    /// W3C trace flags.
    pub flags: u32,
    /// The received `tracestate`, re-serialized (empty when absent or invalid).
    pub trace_state: String,
    /// Baggage as `[key, value, metadata]` triples.
    pub baggage: Vec<Vec<String>>,
}

fn timeout(ms: f64) -> Duration {
    if ms.is_finite() && ms > 0.0 {
        Duration::from_millis(ms.min(u32::MAX as f64) as u64)
    } else {
        Duration::ZERO
    }
}

#[napi]
impl NativeProvider {
    /// Builds the pipeline from explicit options over the `OTEL_*` environment (with
    /// `sdk_language` `nodejs` unless an option says otherwise). A bad option throws a
    /// `TypeError` or `RangeError` with `code: 'InvalidConfig'`, `option` and `problem` (see
    /// `error::throw`).
    ///
    /// `threaded`: record batches on a decoder thread (the default) instead of the calling
    /// thread; the benchmark compares both.
    #[napi(constructor)]
    pub fn new(env: Env, options: Vec<OptionArg>, threaded: Option<bool>) -> Result<Self, Code> {
        guard_js(|| {
            let mut options = convert::options(options).map_err(|e| throw(&env, e))?;
            config::add_default_option(
                &mut options,
                "sdk_language",
                OptionValue::Str("nodejs".into()),
            );
            let provider = Provider::new(&options).map_err(|e| throw(&env, e))?;
            Ok(NativeProvider {
                shared: Arc::new(Shared::new(provider, threaded.unwrap_or(true))),
            })
        })
    }

    /// Registers a tracer (instrumentation scope) and returns its number.
    #[napi]
    pub fn tracer(
        &self,
        name: String,
        version: Option<String>,
        schema_url: Option<String>,
    ) -> Result<u32, Code> {
        guard(|| {
            let t = self
                .shared
                .provider
                .tracer(name, version, schema_url, vec![]);
            let mut tracers = self.shared.tracers.write();
            tracers.push(t);
            Ok((tracers.len() - 1) as u32)
        })
    }

    /// The core's start plan as ten integers (`StartPlan::to_table`, `docs/finished-spans.md`):
    /// `[noop, root × (decision, keepFlags, setFlags), sampledParent × 3, unsampledParent × 3]`,
    /// decisions 0 drop, 1 record only, 2 record and sample, 3 ask (`begin`).
    #[napi]
    pub fn plan(&self) -> Vec<i32> {
        self.shared.provider.start_plan().to_table().to_vec()
    }

    /// The caps of a live span (`Caps::to_table`): `[attributes, events, links, statusCalls]`.
    #[napi]
    pub fn caps(&self) -> Vec<u32> {
        self.shared.provider.caps().to_table().to_vec()
    }

    /// The export timeout in milliseconds (`OTEL_BSP_EXPORT_TIMEOUT`): the default bound of
    /// `forceFlush`.
    #[napi]
    pub fn export_timeout(&self) -> f64 {
        self.shared
            .provider
            .config()
            .batch
            .export_timeout
            .as_millis() as f64
    }

    /// The core's exit bound in milliseconds (`Provider::exit_timeout`: the OTLP timeout, or
    /// `OTEL_BSP_EXPORT_TIMEOUT` if smaller): the default bound of `shutdown` and of the exit
    /// hook.
    #[napi]
    pub fn exit_timeout(&self) -> f64 {
        self.shared.provider.exit_timeout().as_millis() as f64
    }

    /// Starts a span by asking the core (ids and sampling decision).
    #[napi]
    pub fn begin(
        &self,
        tracer: u32,
        name: String,
        kind: u32,
        parent: Option<ContextArg>,
    ) -> Result<Begun, Code> {
        guard(|| {
            let parent = parent.map(|p| {
                convert::span_context(
                    &p.trace_id,
                    &p.span_id,
                    p.flags,
                    p.trace_state.as_deref(),
                    p.is_remote,
                )
            });
            let tracers = self.shared.tracers.read();
            let t = tracers
                .get(tracer as usize)
                .ok_or_else(|| polytrace_core::Error::invalid_argument("unknown tracer"))?;
            let b = t.begin(parent.as_ref(), &name, convert::kind(kind), &[]);
            let mut words = Vec::with_capacity(6);
            convert::words(&b.context.trace_id.0, &mut words);
            convert::words(&b.context.span_id.0, &mut words);
            Ok(Begun {
                trace_id: b.context.trace_id.to_hex(),
                span_id: b.context.span_id.to_hex(),
                flags: u32::from(b.context.trace_flags.0),
                recording: b.recording,
                words,
            })
        })
    }

    /// The raw per-span function bound to this pipeline: `{ submit }` (see [`crate::raw`]).
    #[napi(ts_return_type = "{ submit(batch: Uint8Array, length: number): number }")]
    pub fn hot<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        crate::raw::hot_functions(env, self.shared.clone())
    }

    /// Exports what is queued; resolves with `null`, or `[code, message]` on failure.
    #[napi(ts_return_type = "Promise<[string, string] | null>")]
    pub fn force_flush(&self, timeout_ms: f64) -> AsyncTask<Flush> {
        AsyncTask::new(Flush {
            shared: self.shared.clone(),
            timeout: timeout(timeout_ms),
            shutdown: false,
        })
    }

    /// Exports what is queued and stops; resolves like `forceFlush`.
    #[napi(ts_return_type = "Promise<[string, string] | null>")]
    pub fn shutdown(&self, timeout_ms: f64) -> AsyncTask<Flush> {
        AsyncTask::new(Flush {
            shared: self.shared.clone(),
            timeout: timeout(timeout_ms),
            shutdown: true,
        })
    }

    /// Flushes (or shuts down) on the calling thread, for the process `exit` hook only, where
    /// the event loop is gone and nothing else can run. Returns `null` or `[code, message]`.
    #[napi]
    pub fn finish_sync(&self, timeout_ms: f64, shutdown: bool) -> Option<Vec<String>> {
        Flush {
            shared: self.shared.clone(),
            timeout: timeout(timeout_ms),
            shutdown,
        }
        .run()
        .err()
    }

    /// True after shutdown.
    #[napi]
    pub fn is_shutdown(&self) -> bool {
        self.shared.provider.is_shutdown()
    }

    /// The pipeline's counters, once every batch handed over is recorded.
    #[napi]
    pub fn stats(&self) -> Result<JsStats, Code> {
        guard(|| {
            self.shared.drain();
            Ok(self.shared.provider.stats().into())
        })
    }

    /// The effective configuration as sorted `[option, value]` pairs (`Config::effective`).
    #[napi]
    pub fn config(&self) -> Result<Vec<Vec<String>>, Code> {
        guard(|| {
            Ok(self
                .shared
                .provider
                .config()
                .effective()
                .into_iter()
                .map(|(k, v)| vec![k, v])
                .collect())
        })
    }

    /// Warnings about the environment, one sentence each.
    #[napi]
    pub fn warnings(&self) -> Vec<String> {
        self.shared
            .provider
            .warnings()
            .iter()
            .map(|w| w.message.clone())
            .collect()
    }

    /// The header names the configured propagators read and write, in order.
    #[napi]
    pub fn fields(&self) -> Vec<String> {
        self.shared
            .provider
            .propagators()
            .fields()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// The headers to write for a context (or none) and baggage, as `[name, value]` pairs.
    #[napi]
    pub fn inject(
        &self,
        context: Option<ContextArg>,
        baggage: Vec<Vec<String>>,
    ) -> Result<Vec<Vec<String>>, Code> {
        guard(|| {
            let ctx = context.map(|c| {
                convert::span_context(
                    &c.trace_id,
                    &c.span_id,
                    c.flags,
                    c.trace_state.as_deref(),
                    c.is_remote,
                )
            });
            let baggage = convert::baggage(&baggage);
            let mut out = Vec::new();
            self.shared
                .provider
                .inject(ctx.as_ref(), &baggage, &mut |k, v| {
                    out.push(vec![k.to_string(), v])
                });
            Ok(out)
        })
    }

    /// Reads a remote context and baggage from `[name, value]` pairs.
    #[napi]
    pub fn extract(&self, carrier: Vec<Vec<String>>) -> Result<Extracted, Code> {
        guard(|| {
            let pairs: Vec<(&str, &str)> = carrier
                .iter()
                .map(|kv| {
                    (
                        kv.first().map(String::as_str).unwrap_or(""),
                        kv.get(1).map(String::as_str).unwrap_or(""),
                    )
                })
                .collect();
            let e = self.shared.provider.extract(&pairs);
            let baggage = convert::baggage_entries(&e.baggage);
            Ok(match e.span_context {
                Some(sc) => Extracted {
                    valid: true,
                    trace_id: sc.trace_id.to_hex(),
                    span_id: sc.span_id.to_hex(),
                    flags: u32::from(sc.trace_flags.0),
                    trace_state: sc.trace_state.header(),
                    baggage,
                },
                None => Extracted {
                    valid: false,
                    trace_id: String::new(),
                    span_id: String::new(),
                    flags: 0,
                    trace_state: String::new(),
                    baggage,
                },
            })
        })
    }
}

/// `forceFlush` / `shutdown` on libuv's thread pool, so the event loop never waits.
pub struct Flush {
    shared: Arc<Shared>,
    timeout: Duration,
    shutdown: bool,
}

impl Flush {
    fn run(&self) -> std::result::Result<(), Vec<String>> {
        let p = &self.shared.provider;
        let r = polytrace_core::guard(|| {
            // Batches still on their way to the core go first.
            self.shared.drain();
            if self.shutdown {
                p.shutdown(self.timeout)
            } else {
                p.force_flush(self.timeout)
            }
        });
        r.map_err(|e| to_pair(&e))
    }
}

impl Task for Flush {
    type Output = Option<Vec<String>>;
    type JsValue = Option<Vec<String>>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.run().err())
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}
