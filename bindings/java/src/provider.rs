//! The entry points of `io.polytrace.Native` on one provider handle: construction, tracers,
//! start decisions and ids, the finished-span batches, flush, shutdown, stats, configuration
//! and propagation.
//!
//! A handle is a `Box<Shared>` turned into a `long`; Java frees it once (`providerFree`, from
//! a `Cleaner` when the SDK is unreachable), and calls nothing on it afterwards. After
//! `shutdown` the handle stays valid and every call is a no-op of the core.
//!
//! Spans cross in batches (see [`crate::batch`]): the Java side keeps a few byte streams
//! (one per stripe of threads), each with its own string numbering, and hands a stream's
//! buffer over when it fills. `submit` copies it and returns at once; a decoder thread
//! records the spans in the core, so the calling thread never waits for decoding or export.

use crate::batch::Batches;
use crate::convert;
use crate::entry;
use crate::error::JResult;
use crate::wire;
use jni::objects::{JByteBuffer, JClass, JIntArray, JLongArray, JObjectArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::EnvUnowned;
use parking_lot::RwLock;
use polytrace_core::{Error, Provider, SpanId, SpanKind, TraceId, Tracer};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// What a handle points to.
pub struct Shared {
    /// The core pipeline.
    pub provider: Provider,
    /// Tracers by the number Java knows them by (append-only).
    pub tracers: Arc<RwLock<Vec<Tracer>>>,
    /// The byte streams and their decoder thread.
    pub batches: Batches,
}

/// The handle's provider state. `handle` is a pointer made by `providerNew` and not yet freed
/// (the Java side guarantees it).
fn shared<'a>(handle: jlong) -> JResult<&'a Shared> {
    // SAFETY: Java passes only handles returned by `providerNew` that it has not freed, and
    // frees a handle only once nothing can call with it (see the module docs).
    unsafe { (handle as *const Shared).as_ref() }
        .ok_or_else(|| Error::invalid_argument("the provider handle is null").into())
}

fn millis(ms: jlong) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}

/// `long providerNew(String[] options, String[] properties, int streams)`: a provider from
/// explicit options (flat, see [`convert::options`]) over `properties` (`OTEL_*` names and
/// values from Java's `otel.*` system properties, which win over the environment), with
/// `streams` byte streams for finished spans. Throws `InvalidConfig` naming a bad option.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_providerNew<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    options: JObjectArray<'l, JString<'l>>,
    properties: JObjectArray<'l, JString<'l>>,
    streams: jint,
) -> jlong {
    entry!(unowned, |env| {
        crate::diag::install();
        let options = convert::options(&convert::strings(env, &options)?)?;
        let props = convert::strings(env, &properties)?;
        let lookup = |name: &str| {
            props
                .chunks_exact(2)
                .find(|kv| kv[0] == name)
                .map(|kv| kv[1].clone())
                .or_else(|| polytrace_core::config::env_var(name))
        };
        let provider = Provider::with_env(&options, &lookup)?;
        let tracers = Arc::new(RwLock::new(Vec::new()));
        let streams = streams.clamp(1, 1024) as usize;
        let batches = Batches::new(provider.clone(), tracers.clone(), streams);
        let shared = Box::new(Shared {
            provider,
            tracers,
            batches,
        });
        Ok(Box::into_raw(shared) as jlong)
    })
}

/// `void providerFree(long handle)`: releases the handle (the pipeline stops once nothing
/// else holds it). Never waits for export.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_providerFree<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    entry!(unowned, |_env| {
        if handle != 0 {
            // SAFETY: made by `providerNew` and freed once (see the module docs).
            drop(unsafe { Box::from_raw(handle as *mut Shared) });
        }
        Ok(())
    })
}

/// `int tracer(long handle, String name, String version, String schemaUrl)`: registers an
/// instrumentation scope and returns its number (what span records carry).
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_tracer<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    name: JString<'l>,
    version: JString<'l>,
    schema_url: JString<'l>,
) -> jint {
    entry!(unowned, |env| {
        let s = shared(handle)?;
        let name = convert::string(env, &name)?;
        let version = convert::opt_string(env, &version)?;
        let schema_url = convert::opt_string(env, &schema_url)?;
        let t = s.provider.tracer(name, version, schema_url, vec![]);
        let mut tracers = s.tracers.write();
        tracers.push(t);
        Ok((tracers.len() - 1) as jint)
    })
}

/// `int[] plan(long handle)`: the core's start decisions as ten integers
/// (`StartPlan::to_table`: `[noop, root×3, sampledParent×3, unsampledParent×3]`, each case
/// `[decision, keepFlags, setFlags]`). Java asks again after shutdown.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_plan<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> JIntArray<'l> {
    entry!(unowned, |env| {
        let v = shared(handle)?.provider.start_plan().to_table();
        let a = JIntArray::new(env, v.len())?;
        a.set_region(env, 0, &v)?;
        Ok(a)
    })
}

/// `int[] caps(long handle)`: the caps of a live span's memory (`Provider::caps`):
/// `{attributes, events, links, statusCalls}`, each at most `Integer.MAX_VALUE`.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_caps<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> JIntArray<'l> {
    entry!(unowned, |env| {
        let caps = shared(handle)?.provider.caps().to_table();
        let v = caps.map(|c| jint::try_from(c).unwrap_or(jint::MAX));
        let a = JIntArray::new(env, v.len())?;
        a.set_region(env, 0, &v)?;
        Ok(a)
    })
}

/// `void ids(long[] spanIds, long[] traceIds)`: fills both with new ids from the core's
/// generator (`api::fill_ids`): `spanIds` one per element, `traceIds` one per two elements
/// (high, low). Java takes them in blocks.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_ids<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    span_ids: JLongArray<'l>,
    trace_ids: JLongArray<'l>,
) {
    entry!(unowned, |env| {
        let mut spans = vec![SpanId::INVALID; span_ids.len(env)?];
        let mut traces = vec![TraceId::INVALID; trace_ids.len(env)? / 2];
        polytrace_core::api::fill_ids(&mut spans, &mut traces);
        let s: Vec<jlong> = spans.iter().map(convert::span_long).collect();
        let t: Vec<jlong> = traces
            .iter()
            .flat_map(|t| {
                let (hi, lo) = convert::trace_longs(t);
                [hi, lo]
            })
            .collect();
        span_ids.set_region(env, 0, &s)?;
        trace_ids.set_region(env, 0, &t)?;
        Ok(())
    })
}

/// The OpenTelemetry Java API's `SpanKind` ordinals (INTERNAL, SERVER, CLIENT, PRODUCER,
/// CONSUMER), which the finished-span format shares.
fn kind(n: jint) -> SpanKind {
    match n {
        1 => SpanKind::Server,
        2 => SpanKind::Client,
        3 => SpanKind::Producer,
        4 => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

/// `long[] begin(long handle, int tracer, String name, int kind, long[] parent, String
/// parentTraceState)`: a start decided by the core (a sampler the start plan cannot fix).
/// `parent` is `{traceHi, traceLo, spanId, flags, remote}` or `null`. Returns `{traceHi,
/// traceLo, spanId, flags, recording}`.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_begin<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    tracer: jint,
    name: JString<'l>,
    span_kind: jint,
    parent: JLongArray<'l>,
    parent_trace_state: JString<'l>,
) -> JLongArray<'l> {
    entry!(unowned, |env| {
        let s = shared(handle)?;
        let name = convert::string(env, &name)?;
        let parent = if parent.is_null() {
            None
        } else {
            let mut p = [0i64; 5];
            parent.get_region(env, 0, &mut p)?;
            let ts = convert::opt_string(env, &parent_trace_state)?;
            Some(convert::span_context(
                [p[0], p[1], p[2]],
                p[3] as jint,
                ts.as_deref(),
                p[4] != 0,
            ))
        };
        let t = s
            .tracers
            .read()
            .get(tracer.max(0) as usize)
            .cloned()
            .ok_or_else(|| Error::invalid_argument("unknown tracer"))?;
        let b = t.begin(parent.as_ref(), &name, kind(span_kind), &[]);
        let (hi, lo) = convert::trace_longs(&b.context.trace_id);
        let out = [
            hi,
            lo,
            convert::span_long(&b.context.span_id),
            jlong::from(b.context.trace_flags.0),
            jlong::from(b.recording),
        ];
        let a = JLongArray::new(env, out.len())?;
        a.set_region(env, 0, &out)?;
        Ok(a)
    })
}

/// `int submit(long handle, int stream, ByteBuffer buffer, int length)`: hands over the first
/// `length` bytes of a direct buffer holding one batch of `stream` (the finished-span format,
/// `docs/finished-spans.md`). Returns 1 when the stream must number its strings afresh (an
/// earlier batch of it could not be read), else 0. Never waits for decoding.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_submit<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    stream: jint,
    buffer: JByteBuffer<'l>,
    length: jint,
) -> jint {
    entry!(unowned, |env| {
        let s = shared(handle)?;
        let ptr = env.get_direct_buffer_address(&buffer)?;
        let cap = env.get_direct_buffer_capacity(&buffer)?;
        let len = (length.max(0) as usize).min(cap);
        // SAFETY: a direct buffer's memory is valid for its capacity while the buffer is
        // reachable (it is: a local reference of this call); Java does not write to it until
        // `submit` returns, and the bytes are copied before that.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.cast_const(), len) };
        Ok(jint::from(s.batches.submit(stream.max(0) as usize, bytes)))
    })
}

/// `void drain(long handle)`: returns once every batch handed over so far is recorded in the
/// core.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_drain<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    entry!(unowned, |_env| {
        shared(handle)?.batches.drain();
        Ok(())
    })
}

/// `void flush(long handle, long timeoutMillis)`: exports what is queued (after the batches
/// handed over), waiting at most the timeout. Throws `Timeout` or `Export` when it could not.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_flush<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    timeout_ms: jlong,
) {
    entry!(unowned, |_env| {
        let s = shared(handle)?;
        s.batches.drain();
        s.provider.force_flush(millis(timeout_ms))?;
        Ok(())
    })
}

/// `void shutdown(long handle, long timeoutMillis)`: exports what is queued and stops, waiting
/// at most the timeout plus 0.4 s (a negative one: the core's exit bound,
/// `Provider::exit_timeout` — the OTLP timeout, or `OTEL_BSP_EXPORT_TIMEOUT` if smaller); what
/// the back end did not take by then is counted as dropped. Throws `AlreadyShutdown` on a
/// second call, `Timeout` when the deadline cut exports.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_shutdown<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    timeout_ms: jlong,
) {
    entry!(unowned, |_env| {
        let s = shared(handle)?;
        s.batches.drain();
        let timeout = if timeout_ms < 0 {
            s.provider.exit_timeout()
        } else {
            millis(timeout_ms)
        };
        s.provider.shutdown(timeout)?;
        Ok(())
    })
}

/// `boolean isShutdown(long handle)`.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_isShutdown<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jboolean {
    entry!(unowned, |_env| Ok(shared(handle)?.provider.is_shutdown()))
}

/// `long[] stats(long handle)`: the pipeline's counters (in `Stats`'s order) once every batch
/// handed over is recorded.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_stats<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> JLongArray<'l> {
    entry!(unowned, |env| {
        let s = shared(handle)?;
        s.batches.drain();
        let v = convert::stats(&s.provider.stats());
        let a = JLongArray::new(env, v.len())?;
        a.set_region(env, 0, &v)?;
        Ok(a)
    })
}

/// `String[] config(long handle)`: the effective configuration as flat option, value pairs
/// (`Config::effective`).
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_config<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> JObjectArray<'l, JString<'l>> {
    entry!(unowned, |env| {
        let flat: Vec<String> = shared(handle)?
            .provider
            .config()
            .effective()
            .into_iter()
            .flat_map(|(k, v)| [k, v])
            .collect();
        convert::string_array(env, &flat)
    })
}

/// `String[] fields(long handle)`: the header names the configured propagators read and
/// write.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_fields<'l>(
    mut unowned: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> JObjectArray<'l, JString<'l>> {
    entry!(unowned, |env| {
        let fields = shared(handle)?.provider.propagators().fields();
        convert::string_array(env, fields)
    })
}

/// The headers the configured propagators write, for `Native.inject` (see [`crate::raw`]).
/// `input`, in the form of [`crate::wire`]: the context (`traceHi`, `traceLo`, `spanId` as
/// `i64`s, the flags and a valid flag as `u8`s), the trace state header, then the baggage as
/// key, value, metadata triples. Writes the headers as (field index, value) entries.
pub fn inject(handle: jlong, input: &[u8], out: &mut wire::Writer<'_>) -> JResult<()> {
    let s = shared(handle)?;
    let mut r = wire::Reader::new(input);
    let ids = [r.i64()?, r.i64()?, r.i64()?];
    let flags = r.u8()?;
    let valid = r.u8()? != 0;
    let trace_state = r.string()?;
    let mut triples = Vec::new();
    while !r.done() {
        triples.push(r.string()?);
    }
    let ctx =
        valid.then(|| convert::span_context(ids, jint::from(flags), Some(&trace_state), false));
    let baggage = convert::baggage(&triples);
    let propagators = s.provider.propagators();
    let fields = propagators.fields();
    propagators.inject_str(ctx.as_ref(), &baggage, &mut |k, v| {
        let index = fields.iter().position(|f| *f == k).unwrap_or(0);
        out.u8(index as u8);
        out.string(v);
    });
    Ok(())
}

/// Carrier values kept on the stack by [`extract`]; more (repeated headers) go to the heap.
const STACK_VALUES: usize = 8;

/// A remote context and baggage from the carrier's values, for `Native.extract` (see
/// [`crate::raw`]): `input` holds (field index, value) entries in the form of [`crate::wire`].
/// Writes the context (`traceHi`, `traceLo`, `spanId` as `i64`s, the flags and a valid flag as
/// `u8`s), the received trace state (its header, its entry count, its key, value pairs), then
/// the baggage triples. Malformed headers are ignored.
pub fn extract(handle: jlong, input: &[u8], out: &mut wire::Writer<'_>) -> JResult<()> {
    let s = shared(handle)?;
    let propagators = s.provider.propagators();
    let fields = propagators.fields();
    let mut r = wire::Reader::new(input);
    let mut stack: [(&str, Cow<'_, str>); STACK_VALUES] = Default::default();
    let mut n = 0;
    let mut heap = Vec::new();
    while !r.done() {
        let index = r.u8()? as usize;
        let value = r.string()?;
        if let Some(f) = fields.get(index) {
            if n < STACK_VALUES {
                stack[n] = (*f, value);
                n += 1;
            } else {
                heap.push((*f, value));
            }
        }
    }
    let e = if heap.is_empty() {
        propagators.extract(&stack[..n])
    } else {
        heap.splice(0..0, stack);
        propagators.extract(&heap)
    };
    match &e.span_context {
        Some(sc) => {
            let (hi, lo) = convert::trace_longs(&sc.trace_id);
            out.i64(hi);
            out.i64(lo);
            out.i64(convert::span_long(&sc.span_id));
            out.u8(sc.trace_flags.0);
            out.u8(1);
            let entries = sc.trace_state.entries();
            if entries.is_empty() {
                out.string("");
            } else {
                out.string(&sc.trace_state.header());
            }
            out.u32(entries.len() as u32);
            for (k, v) in entries {
                out.string(k);
                out.string(v);
            }
        }
        None => {
            for _ in 0..3 {
                out.i64(0);
            }
            out.u8(0);
            out.u8(0);
            out.string("");
            out.u32(0);
        }
    }
    for b in e.baggage.entries() {
        out.string(&b.key);
        out.string(&b.value);
        out.string(&b.metadata);
    }
    Ok(())
}
