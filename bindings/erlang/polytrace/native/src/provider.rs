//! The provider and tracer handles and everything called on them but the span hand-over
//! ([`crate::record`]): construction, the start plan and ids, `begin` for samplers that must
//! see the span, propagation, flush, shutdown and stats. Flush, shutdown and construction run
//! on dirty I/O schedulers, so no normal scheduler ever waits for them.

use crate::convert::{self, Tuple};
use crate::error::{guard, unit, Failure, Outcome};
use polytrace_core::api;
use polytrace_core::propagation::Baggage;
use polytrace_core::{Provider, SpanKind, Tracer};
use rustler::{Encoder, Env, NifResult, ResourceArc, Term};
use std::time::Duration;

rustler::atoms! {
    ok,
}

/// A provider: one configured core pipeline.
pub struct ProviderRes {
    /// The pipeline.
    pub provider: Provider,
}

#[rustler::resource_impl]
impl rustler::Resource for ProviderRes {}

/// A tracer (instrumentation scope) and its provider, as every live span carries it (the
/// handle is [`crate::handle`]'s resource).
pub struct TracerRes {
    /// The scope's tracer.
    pub tracer: Tracer,
    /// Its provider (to count plan-started spans).
    pub provider: Provider,
}

fn provider_of<'a>(term: Term<'a>) -> Outcome<&'a ProviderRes> {
    term.try_get_resource::<ProviderRes>()
        .ok_or(Failure::BadArg)
}

/// The tracer resource of a term.
#[inline]
pub fn tracer_of<'a>(term: Term<'a>) -> Outcome<&'a TracerRes> {
    crate::handle::get(term).ok_or(Failure::BadArg)
}

fn timeout(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// `{ok, Provider}` from options over the application environment's (`Defaults`: an option
/// there counts unless `Options` gives it in any spelling) over the `OTEL_*` environment, or
/// `{error, {invalid_config, ...}}`. Dirty: building a pipeline starts its threads.
#[rustler::nif(schedule = "DirtyIo")]
fn provider_new<'a>(env: Env<'a>, options: Term<'a>, defaults: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let mut options = convert::options(options)?;
        for (name, value) in convert::options(defaults)? {
            polytrace_core::config::add_default_option(&mut options, &name, value);
        }
        polytrace_core::config::add_default_option(
            &mut options,
            "sdk_language",
            polytrace_core::config::OptionValue::Str("erlang".into()),
        );
        let provider = Provider::new(&options)?;
        Ok((ok(), ResourceArc::new(ProviderRes { provider })).encode(env))
    })
}

/// A tracer for an instrumentation scope (`Version` and `SchemaUrl` may be `undefined`).
#[rustler::nif]
fn tracer<'a>(
    env: Env<'a>,
    provider: Term<'a>,
    name: Term<'a>,
    version: Term<'a>,
    schema_url: Term<'a>,
) -> NifResult<Term<'a>> {
    guard(env, || {
        let p = provider_of(provider)?;
        let name = convert::string(name).ok_or(Failure::BadArg)?;
        let optional = |t: Term<'a>| {
            if t.decode::<rustler::Atom>()
                .is_ok_and(|a| a == convert::undefined())
            {
                None
            } else {
                convert::string(t)
            }
        };
        let tracer = p
            .provider
            .tracer(name, optional(version), optional(schema_url), vec![]);
        Ok(crate::handle::make(
            env,
            TracerRes {
                tracer,
                provider: p.provider.clone(),
            },
        ))
    })
}

/// The start plan as `{Noop, RootDecision, RootKeep, RootSet, SampledDecision, SampledKeep,
/// SampledSet, UnsampledDecision, UnsampledKeep, UnsampledSet}` (the core's
/// `StartPlan::to_table`, docs/finished-spans.md, "Starting a span"): the Erlang side sets
/// `Flags = (ParentFlags band Keep) bor Set`.
#[rustler::nif]
fn plan<'a>(env: Env<'a>, provider: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let table = provider_of(provider)?.provider.start_plan().to_table();
        Ok(tuple_of(env, &table))
    })
}

/// A tuple of the values.
fn tuple_of<'a>(env: Env<'a>, values: &[impl Encoder]) -> Term<'a> {
    let terms: Vec<Term<'a>> = values.iter().map(|x| x.encode(env)).collect();
    rustler::types::tuple::make_tuple(env, &terms)
}

/// The caps a live span applies on the Erlang side, `{Attributes, Events, Links, StatusCalls}`
/// (the core's `Caps::to_table`, docs/finished-spans.md, "Caps").
#[rustler::nif]
fn caps<'a>(env: Env<'a>, provider: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let table = provider_of(provider)?.provider.caps().to_table();
        Ok(tuple_of(env, &table))
    })
}

/// A new trace id (16 bytes) from the core's generator.
#[rustler::nif]
fn new_trace_id(env: Env<'_>) -> NifResult<Term<'_>> {
    guard(env, || Ok(convert::binary(env, &api::new_trace_id().0)))
}

/// A new span id (8 bytes) from the core's generator.
#[rustler::nif]
fn new_span_id(env: Env<'_>) -> NifResult<Term<'_>> {
    guard(env, || Ok(convert::binary(env, &api::new_span_id().0)))
}

/// A recording child span's new span id; counts it started.
#[rustler::nif]
fn start_child<'a>(env: Env<'a>, tracer: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let t = tracer_of(tracer)?;
        t.provider.count_started(1);
        Ok(convert::binary(env, &api::new_span_id().0))
    })
}

/// A recording root span's `{TraceId, SpanId}`; counts it started.
#[rustler::nif]
fn start_root<'a>(env: Env<'a>, tracer: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let t = tracer_of(tracer)?;
        t.provider.count_started(1);
        Ok((
            convert::binary(env, &api::new_trace_id().0),
            convert::binary(env, &api::new_span_id().0),
        )
            .encode(env))
    })
}

/// Asks the core to start a span whose sampling the plan does not fix (`decision = 3`):
/// `{TraceId, SpanId, Flags, Recording}`.
#[rustler::nif]
fn begin_span<'a>(
    env: Env<'a>,
    tracer: Term<'a>,
    parent: Term<'a>,
    name: Term<'a>,
    kind: u8,
    attributes: Term<'a>,
) -> NifResult<Term<'a>> {
    guard(env, || {
        let t = tracer_of(tracer)?;
        let parent = convert::span_context(parent);
        let name = convert::key(name).ok_or(Failure::BadArg)?;
        let attributes = convert::attributes(attributes, convert::warn_dropped)?;
        let b = t
            .tracer
            .begin(parent.as_ref(), &name, span_kind(kind), &attributes);
        Ok((
            convert::binary(env, &b.context.trace_id.0),
            convert::binary(env, &b.context.span_id.0),
            b.context.trace_flags.0,
            b.recording,
        )
            .encode(env))
    })
}

/// The span kind of its number (0 internal · 1 server · 2 client · 3 producer · 4 consumer).
#[inline]
pub fn span_kind(k: u8) -> SpanKind {
    match k {
        1 => SpanKind::Server,
        2 => SpanKind::Client,
        3 => SpanKind::Producer,
        4 => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

fn baggage(term: Term<'_>) -> Outcome<Baggage> {
    let mut b = Baggage::default();
    for item in term.into_list_iterator()? {
        let t: Tuple<'_> = convert::tuple(item).ok_or(Failure::BadArg)?;
        let field = |i| t.get(i).and_then(convert::string).ok_or(Failure::BadArg);
        if t.len() != 3 {
            return Err(Failure::BadArg);
        }
        b = b.with(&field(0)?, &field(1)?, &field(2)?);
    }
    Ok(b)
}

/// The configured propagators' headers for a span context (or `undefined`) and baggage
/// (`[{Key, Value, Metadata}]`): `[{Name, Value}]`, names lowercase, in injection order.
#[rustler::nif]
fn inject<'a>(
    env: Env<'a>,
    provider: Term<'a>,
    span: Term<'a>,
    baggage_list: Term<'a>,
) -> NifResult<Term<'a>> {
    guard(env, || {
        let p = provider_of(provider)?;
        let ctx = convert::span_context(span);
        let bag = if baggage_list.is_empty_list() {
            Baggage::default()
        } else {
            baggage(baggage_list)?
        };
        let mut out: Vec<Term<'a>> = Vec::with_capacity(3);
        p.provider.inject(ctx.as_ref(), &bag, &mut |name, value| {
            out.push(
                (
                    convert::binary(env, name.as_bytes()),
                    convert::binary(env, value.as_bytes()),
                )
                    .encode(env),
            );
        });
        Ok(out.encode(env))
    })
}

/// Reads a remote context from a header list (names in any case, binaries or strings):
/// `{polytrace_ctx, SpanCtx | undefined, Baggage}`. Malformed headers are ignored.
#[rustler::nif]
fn extract<'a>(env: Env<'a>, provider: Term<'a>, carrier: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let p = provider_of(provider)?;
        let carrier = convert::carrier(carrier)?;
        let x = p.provider.extract(&carrier);
        let span = match &x.span_context {
            Some(c) => convert::encode_span_context(env, c, false),
            None => convert::undefined().encode(env),
        };
        let bag: Vec<Term<'a>> = x
            .baggage
            .entries()
            .iter()
            .map(|e| {
                (
                    convert::binary(env, e.key.as_bytes()),
                    convert::binary(env, e.value.as_bytes()),
                    convert::binary(env, e.metadata.as_bytes()),
                )
                    .encode(env)
            })
            .collect();
        Ok((convert::polytrace_ctx(), span, bag).encode(env))
    })
}

/// Exports what is queued, waiting at most `TimeoutMs`: `ok` or `{error, {timeout, _}}`.
#[rustler::nif(schedule = "DirtyIo")]
fn force_flush<'a>(env: Env<'a>, provider: Term<'a>, timeout_ms: u64) -> NifResult<Term<'a>> {
    guard(env, || {
        let p = provider_of(provider)?;
        unit(env, p.provider.force_flush(timeout(timeout_ms)))
    })
}

/// Exports what is queued and stops, waiting at most `TimeoutMs`.
#[rustler::nif(schedule = "DirtyIo")]
fn shutdown<'a>(env: Env<'a>, provider: Term<'a>, timeout_ms: u64) -> NifResult<Term<'a>> {
    guard(env, || {
        let p = provider_of(provider)?;
        unit(env, p.provider.shutdown(timeout(timeout_ms)))
    })
}

/// The core's exit bound in milliseconds (`Provider::exit_timeout`: the OTLP timeout, or
/// `OTEL_BSP_EXPORT_TIMEOUT` if smaller): how long `shutdown/0` and the application's stop
/// wait, the same bound as every binding's exit.
#[rustler::nif]
fn exit_timeout_ms<'a>(env: Env<'a>, provider: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let p = provider_of(provider)?;
        let ms = u64::try_from(p.provider.exit_timeout().as_millis()).unwrap_or(u64::MAX);
        Ok(ms.encode(env))
    })
}

/// The pipeline's counters, a map.
#[rustler::nif]
fn stats<'a>(env: Env<'a>, provider: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let p = provider_of(provider)?;
        Ok(convert::stats(env, &p.provider.stats())?)
    })
}

/// The effective configuration as `[{Name, Value}]` binaries, sorted by name.
#[rustler::nif]
fn effective_config<'a>(env: Env<'a>, provider: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let p = provider_of(provider)?;
        Ok(effective_pairs(env, &p.provider.config().effective()))
    })
}

/// `[{Name, Value}]` binaries.
pub fn effective_pairs<'a>(env: Env<'a>, pairs: &[(String, String)]) -> Term<'a> {
    let v: Vec<Term<'a>> = pairs
        .iter()
        .map(|(k, v)| {
            (
                convert::binary(env, k.as_bytes()),
                convert::binary(env, v.as_bytes()),
            )
                .encode(env)
        })
        .collect();
    v.encode(env)
}

/// Where the core's diagnostics go from now on (`undefined`: stderr).
#[rustler::nif]
fn set_diag_pid<'a>(env: Env<'a>, pid: Term<'a>) -> Term<'a> {
    crate::diag::set_pid(pid.decode::<rustler::LocalPid>().ok());
    ok().encode(env)
}
