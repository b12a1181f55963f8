'use strict';
/**
 * polytrace for Node.js: an `@opentelemetry/api` TracerProvider backed by the polytrace Rust
 * core. Configure it with the `OTEL_*` variables and/or options, `register()` it, and every
 * OpenTelemetry instrumentation records into the core's pipeline.
 *
 * @example
 * const { TracerProvider } = require('polytrace');
 * const provider = new TracerProvider({ serviceName: 'checkout' }).register();
 * const tracer = require('@opentelemetry/api').trace.getTracer('app');
 * tracer.startActiveSpan('work', (span) => { span.end(); });
 * @module polytrace
 */

/** @import * as otel from '@opentelemetry/api' */

const { EventEmitter } = require('node:events');
const { AsyncLocalStorage } = require('node:async_hooks');
const api = require('./lib/api');
const native = require('./lib/native');
const { Tracer } = require('./lib/tracer');
const { Span } = require('./lib/span');
const { Batch } = require('./lib/batch');
const options = require('./lib/options');
const { once } = require('./lib/diag');
const { TraceState } = require('./lib/tracestate');
const { withSpan } = require('./lib/context');

const { ROOT_CONTEXT, context, propagation, trace, diag, isSpanContextValid } = api;

// Core diagnostics (bad OTEL_* values, export failures, a full queue) go to the API's diag.
native.setDiagHandler((level, message) => {
  if (level === 1) diag.error(`polytrace: ${message}`);
  else diag.warn(`polytrace: ${message}`);
});

/**
 * Benchmark switch: record batches on the JavaScript thread instead of the provider's decoder
 * thread (bench/node compares both). Not a configuration option.
 */
const inlineDecode = process.env.POLYTRACE_NODE_INLINE_DECODE === '1';

/** The start plan of a provider that creates only non-recording spans (`StartPlan::to_table`). */
const NOOP_PLAN = [1, 0, 255, 0, 0, 255, 0, 0, 255, 0];

/**
 * An Error from the core: `code` is the core's error kind (`'Timeout'`, `'Export'`,
 * `'AlreadyShutdown'`, `'InvalidConfig'`, `'InvalidArgument'`, `'Internal'`).
 * @param {[string, string]} pair
 */
function coreError(pair) {
  const e = new Error(`polytrace: ${pair[1]}`);
  // @ts-ignore
  e.code = pair[0];
  return e;
}

// ---------------------------------------------------------------------------------------------
// Exit: providers that were not shut down are flushed when the process exits normally, on the
// exit hook (the event loop is gone then, so the native call may wait), all of them within the
// longest exit bound among them (the core's `exit_timeout`: the OTLP timeout, or
// `OTEL_BSP_EXPORT_TIMEOUT` if smaller). What the back end did not take by then is counted as
// dropped. Nothing here keeps the event loop alive.

/** @type {Set<any>} */
const live = new Set();
let exitHooked = false;

function onExit() {
  let budget = 0;
  for (const p of live) budget = Math.max(budget, p.exitTimeout);
  const deadline = Date.now() + budget;
  for (const p of live) {
    p.plan = NOOP_PLAN;
    p.batch.flush();
    const r = p.native.finishSync(Math.max(0, deadline - Date.now()), true);
    if (r && r[0] !== 'AlreadyShutdown') {
      process.stderr.write(`polytrace: at exit: ${r[1]}\n`);
    }
  }
  live.clear();
}

// ---------------------------------------------------------------------------------------------

/**
 * A `ContextManager` on `node:async_hooks`' `AsyncLocalStorage`: the active context follows
 * callbacks, promises and `await`. `bind()` also binds EventEmitter listeners (as the
 * OpenTelemetry HTTP instrumentation expects).
 * @implements {otel.ContextManager}
 */
class AsyncLocalStorageContextManager {
  #als = new AsyncLocalStorage();
  #adding = false;
  /** @type {WeakMap<object, Record<string|symbol, WeakMap<Function, Function>>>} */
  #patched = new WeakMap();

  /** @returns {otel.Context} */
  active() {
    return this.#als.getStore() ?? ROOT_CONTEXT;
  }

  /**
   * Runs `fn` with `ctx` active.
   * @template {unknown[]} A
   * @template {(...args: A) => ReturnType<F>} F
   * @param {otel.Context} ctx
   * @param {F} fn
   * @param {ThisParameterType<F>} [thisArg]
   * @param {A} args
   * @returns {ReturnType<F>}
   */
  with(ctx, fn, thisArg, ...args) {
    const cb = thisArg === undefined || thisArg === null ? fn : fn.bind(thisArg);
    return this.#als.run(ctx, cb, ...args);
  }

  /**
   * Binds a function or an EventEmitter's listeners to `ctx`.
   * @template T
   * @param {otel.Context} ctx
   * @param {T} target
   * @returns {T}
   */
  bind(ctx, target) {
    if (target instanceof EventEmitter) return /** @type {any} */ (this.#bindEmitter(ctx, target));
    if (typeof target === 'function') return /** @type {any} */ (this.#bindFunction(ctx, target));
    return target;
  }

  /** @returns {this} */
  enable() {
    return this;
  }

  /** @returns {this} */
  disable() {
    this.#als.disable();
    return this;
  }

  /** @param {otel.Context} ctx @param {Function} fn */
  #bindFunction(ctx, fn) {
    const manager = this;
    /** @this {unknown} */
    const bound = function (/** @type {unknown[]} */ ...args) {
      return manager.with(ctx, () => fn.apply(this, args));
    };
    Object.defineProperty(bound, 'length', { enumerable: false, configurable: true, writable: false, value: fn.length });
    return bound;
  }

  /** @param {otel.Context} ctx @param {EventEmitter} ee */
  #bindEmitter(ctx, ee) {
    if (this.#patched.has(ee)) return ee;
    this.#patched.set(ee, Object.create(null));
    const manager = this;
    const e = /** @type {any} */ (ee);
    for (const method of ['addListener', 'on', 'once', 'prependListener', 'prependOnceListener']) {
      const original = e[method];
      if (typeof original !== 'function') continue;
      e[method] = function (/** @type {string|symbol} */ event, /** @type {Function} */ listener) {
        if (manager.#adding || typeof listener !== 'function') return original.call(this, event, listener);
        const map = manager.#patched.get(ee) || Object.create(null);
        manager.#patched.set(ee, map);
        const listeners = map[event] || (map[event] = new WeakMap());
        const bound = manager.#bindFunction(ctx, listener);
        listeners.set(listener, bound);
        manager.#adding = true;
        try {
          return original.call(this, event, bound);
        } finally {
          manager.#adding = false;
        }
      };
    }
    for (const method of ['removeListener', 'off']) {
      const original = e[method];
      if (typeof original !== 'function') continue;
      e[method] = function (/** @type {string|symbol} */ event, /** @type {Function} */ listener) {
        const listeners = manager.#patched.get(ee)?.[event];
        return original.call(this, event, (listeners && listeners.get(listener)) || listener);
      };
    }
    const removeAll = e.removeAllListeners;
    if (typeof removeAll === 'function') {
      e.removeAllListeners = function (/** @type {unknown[]} */ ...args) {
        const map = manager.#patched.get(ee);
        if (map) {
          if (args.length === 0) manager.#patched.set(ee, Object.create(null));
          else delete map[/** @type {string} */ (args[0])];
        }
        return removeAll.apply(this, args);
      };
    }
    return ee;
  }
}

// ---------------------------------------------------------------------------------------------

/** @type {otel.TextMapSetter<any>} */
const defaultSetter = api.defaultTextMapSetter;
/** @type {otel.TextMapGetter<any>} */
const defaultGetter = api.defaultTextMapGetter;

/**
 * The core's W3C propagator (`OTEL_PROPAGATORS`: `tracecontext`, `baggage`, both or `none`) as
 * a `TextMapPropagator`. Parsing and writing are the core's, so every polytrace language reads
 * and writes the same headers.
 * @implements {otel.TextMapPropagator}
 */
class W3CPropagator {
  #native;
  /** @type {string[]} */
  #fields;
  #tc;
  #bg;

  /** @param {TracerProvider} provider whose `OTEL_PROPAGATORS` configuration applies */
  constructor(provider) {
    this.#native = nativeOf(provider);
    this.#fields = this.#native.fields();
    this.#tc = this.#fields.includes('traceparent');
    this.#bg = this.#fields.includes('baggage');
  }

  /**
   * @param {otel.Context} ctx
   * @param {unknown} carrier
   * @param {otel.TextMapSetter} [setter]
   */
  inject(ctx, carrier, setter = defaultSetter) {
    const span = this.#tc ? trace.getSpan(ctx) : undefined;
    const sc = span && span.spanContext();
    const baggage = this.#bg ? propagation.getBaggage(ctx) : undefined;
    const entries = baggage ? baggage.getAllEntries() : [];
    const state = sc && sc.traceState ? sc.traceState.serialize() : '';
    if (entries.length === 0 && state === '') {
      if (sc === undefined) return;
      // A polytrace span's ids are the core's own (lowercase hex, never zero): its header is
      // their concatenation, with the flag bits the core writes (sampled, random). Any other
      // span context goes through the core's writer, which validates it.
      const tp = span instanceof Span ? span._traceparent() : native.formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags >>> 0);
      if (tp !== undefined) setter.set(carrier, 'traceparent', tp);
      return;
    }
    const arg =
      sc === undefined || !isSpanContextValid(sc)
        ? undefined
        : { traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags >>> 0, traceState: state, isRemote: !!sc.isRemote };
    const list = entries.map(([k, e]) => [k, e.value, e.metadata ? e.metadata.toString() : '']);
    for (const [name, value] of this.#native.inject(arg, list)) setter.set(carrier, name, value);
  }

  /**
   * @param {otel.Context} ctx
   * @param {unknown} carrier
   * @param {otel.TextMapGetter} [getter]
   * @returns {otel.Context}
   */
  extract(ctx, carrier, getter = defaultGetter) {
    if (carrier === null || carrier === undefined) return ctx;
    const tp = this.#tc ? getter.get(carrier, 'traceparent') : undefined;
    const ts = this.#tc ? getter.get(carrier, 'tracestate') : undefined;
    const bg = this.#bg ? getter.get(carrier, 'baggage') : undefined;
    if (ts === undefined && bg === undefined) {
      if (typeof tp !== 'string') {
        if (tp === undefined || (Array.isArray(tp) && tp.length === 0)) return ctx;
      } else {
        // Fast path: the core parses; the ids are substrings of the header.
        const r = native.parseTraceparent(tp);
        if (r < 0) return ctx;
        const o = r >> 8;
        return withSpan(
          ctx,
          trace.wrapSpanContext({
            traceId: tp.substring(o + 3, o + 35),
            spanId: tp.substring(o + 36, o + 52),
            traceFlags: r & 0xff,
            isRemote: true,
          }),
        );
      }
    }
    /** @type {string[][]} */
    const pairs = [];
    const add = (/** @type {string} */ name, /** @type {unknown} */ v) => {
      if (typeof v === 'string') pairs.push([name, v]);
      else if (Array.isArray(v)) for (const e of v) if (typeof e === 'string') pairs.push([name, e]);
    };
    add('traceparent', tp);
    add('tracestate', ts);
    add('baggage', bg);
    const e = this.#native.extract(pairs);
    let out = ctx;
    if (e.valid) {
      /** @type {otel.SpanContext} */
      const sc = { traceId: e.traceId, spanId: e.spanId, traceFlags: e.flags, isRemote: true };
      if (e.traceState !== '') sc.traceState = TraceState.parse(e.traceState);
      out = withSpan(out, trace.wrapSpanContext(sc));
    }
    if (e.baggage.length > 0) {
      /** @type {Record<string, otel.BaggageEntry>} */
      const entries = {};
      for (const [k, v, m] of e.baggage) {
        entries[k] = m === '' ? { value: v } : { value: v, metadata: api.baggageEntryMetadataFromString(m) };
      }
      out = propagation.setBaggage(out, propagation.createBaggage(entries));
    }
    return out;
  }

  /** @returns {string[]} */
  fields() {
    return this.#fields.slice();
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Counters of a provider's pipeline.
 * @typedef {object} Stats
 * @property {number} spansStarted recording spans started (sampled or record-only)
 * @property {number} spansEnded recording spans ended
 * @property {number} spansExported spans the exporter confirmed
 * @property {number} spansDropped sum of the `dropped*` counters
 * @property {number} droppedQueueFull dropped because the queue was full (back end slow or down)
 * @property {number} droppedExportFailed dropped because their export failed for good
 * @property {number} droppedShutdown dropped at shutdown: ended after it began, or not sent by its deadline
 * @property {number} droppedInvalid lost in a batch the core could not read (a polytrace bug)
 * @property {number} exportFailures export calls that failed
 * @property {number} spansSampled spans the sampler started with the `sampled` flag
 * @property {number} spansNotSampled spans the sampler started without the `sampled` flag
 * @property {number} samplerPolls strategies fetched by the remote sampler (`jaeger_remote`)
 * @property {number} samplerPollFailures failed fetches of the remote sampler's strategy
 */

/**
 * Options of a provider: any option of docs/configuration.md, in camelCase (or snake_case),
 * over the `OTEL_*` environment. E.g. `serviceName`, `exporter` (`otlp`, `console`, `file`,
 * `none`), `endpoint`, `protocol`, `headers`, `sampler`, `samplerArg`, `maxQueueSize`,
 * `scheduleDelay`, `exportTimeout`, `propagators`, `resourceAttributes`.
 * @typedef {Record<string, string | number | boolean | string[] | Record<string, string> | undefined>} ProviderOptions
 */

/**
 * How `register()` installs the provider; `null` leaves that global alone.
 * @typedef {object} RegisterOptions
 * @property {otel.ContextManager | null} [contextManager] default: a new `AsyncLocalStorageContextManager`
 * @property {otel.TextMapPropagator | null} [propagator] default: the core's W3C propagator (`OTEL_PROPAGATORS`)
 */

/** @type {WeakMap<TracerProvider, any>} */
const natives = new WeakMap();
/** @param {TracerProvider} provider */
function nativeOf(provider) {
  const n = natives.get(provider);
  if (n === undefined) throw new TypeError('polytrace: W3CPropagator needs a polytrace TracerProvider');
  return n;
}

/**
 * An `@opentelemetry/api` `TracerProvider` whose spans are recorded, batched and exported by
 * the polytrace core. Configured by `OTEL_*` variables and `options` (options win).
 * @implements {otel.TracerProvider}
 */
class TracerProvider {
  /** Shared with tracers and spans (lib/tracer.js, lib/span.js). */
  #p;
  /** @type {Map<string, Tracer>} */
  #tracers = new Map();
  /** @type {Promise<void> | undefined} */
  #shutdown;
  /** @type {W3CPropagator | undefined} */
  #propagator;

  /**
   * @param {ProviderOptions} [opts]
   * @throws {TypeError} an unknown option, the same option twice or a value of a type the option
   *   never takes; `code` is `'InvalidConfig'`, `option` the option's name, `problem` the core's
   *   `'UnknownOption'`, `'DuplicateOption'` or `'WrongType'`
   * @throws {RangeError} a value the option does not accept (`problem: 'BadValue'`; `code` and
   *   `option` as above)
   */
  constructor(opts) {
    const n = new native.NativeProvider(options.toNative(opts), !inlineDecode);
    // The core's caps of a live span, as typed values (docs/finished-spans.md, "Caps").
    const [attributes, events, links, statusCalls] = n.caps();
    this.#p = {
      native: n,
      plan: n.plan(),
      batch: new Batch(n.hot().submit),
      caps: {
        attributes,
        // Repeated keys are folded (and new ones past the cap discarded) once this many
        // entries pile up: bounded memory without a Map per span.
        compactAt: Math.max(512, attributes * 4),
        events,
        links,
        statusCalls,
      },
      exportTimeout: n.exportTimeout(),
      exitTimeout: n.exitTimeout(),
    };
    natives.set(this, n);
    live.add(this.#p);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', onExit);
    }
  }

  /**
   * A tracer for an instrumentation scope (cached by name, version and schema URL).
   * @param {string} name
   * @param {string} [version]
   * @param {otel.TracerOptions} [tracerOptions]
   * @returns {otel.Tracer}
   */
  getTracer(name, version, tracerOptions) {
    const schemaUrl = tracerOptions && typeof tracerOptions.schemaUrl === 'string' ? tracerOptions.schemaUrl : undefined;
    if (typeof name !== 'string') {
      once('tracer-name', `tracer names are strings, got ${typeof name}: converted`);
      name = String(name);
    }
    const v = typeof version === 'string' ? version : undefined;
    const key = `${name}\u0000${v ?? ''}\u0000${schemaUrl ?? ''}`;
    let t = this.#tracers.get(key);
    if (t === undefined) {
      t = new Tracer(this.#p, this.#p.native.tracer(name, v, schemaUrl));
      this.#tracers.set(key, t);
    }
    return t;
  }

  /**
   * Installs this provider as the global tracer provider, with an
   * `AsyncLocalStorageContextManager` and the core's W3C propagator (unless told otherwise).
   * @param {RegisterOptions} [config]
   * @returns {this}
   */
  register(config = {}) {
    const cm = config.contextManager === undefined ? new AsyncLocalStorageContextManager() : config.contextManager;
    if (cm) {
      cm.enable();
      context.setGlobalContextManager(cm);
    }
    const pr = config.propagator === undefined ? this.propagator() : config.propagator;
    if (pr) propagation.setGlobalPropagator(pr);
    trace.setGlobalTracerProvider(this);
    return this;
  }

  /**
   * The core's W3C propagator for this provider's `OTEL_PROPAGATORS`.
   * @returns {W3CPropagator}
   */
  propagator() {
    if (this.#propagator === undefined) this.#propagator = new W3CPropagator(this);
    return this.#propagator;
  }

  /**
   * Exports every ended span now. Runs on libuv's thread pool: the event loop never waits.
   * Rejects with an Error whose `code` is `'Timeout'` when the back end did not take the spans
   * in time (they stay queued).
   * @param {number} [timeoutMillis] default: the export timeout (`OTEL_BSP_EXPORT_TIMEOUT`)
   * @returns {Promise<void>}
   */
  async forceFlush(timeoutMillis) {
    const p = this.#p;
    p.batch.flush();
    const r = await p.native.forceFlush(timeoutMillis ?? p.exportTimeout);
    if (r) throw coreError(r);
  }

  /**
   * Exports what is queued and stops: later spans are non-recording. Everything is done within
   * `timeoutMillis` plus at most 0.4 s: what the back end did not take by then is counted as
   * dropped in `stats()`, and a back end that refuses connections is not retried. Calling it
   * again returns the same promise. Rejects like `forceFlush`.
   * @param {number} [timeoutMillis] default: the exit bound (the OTLP timeout, or less)
   * @returns {Promise<void>}
   */
  shutdown(timeoutMillis) {
    if (this.#shutdown === undefined) {
      const p = this.#p;
      p.plan = NOOP_PLAN;
      live.delete(p);
      p.batch.flush();
      this.#shutdown = p.native
        .shutdown(timeoutMillis ?? p.exitTimeout)
        .then((/** @type {[string, string] | null} */ r) => {
          if (r) throw coreError(r);
        });
    }
    return this.#shutdown;
  }

  /**
   * The pipeline's counters (spans handed over to the core so far).
   * @returns {Stats}
   */
  stats() {
    const p = this.#p;
    p.batch.flush();
    return p.native.stats();
  }

  /**
   * The effective configuration (option name → canonical string), as resolved by the core.
   * @returns {Record<string, string>}
   */
  config() {
    return Object.fromEntries(this.#p.native.config());
  }
}

module.exports = { TracerProvider, AsyncLocalStorageContextManager, W3CPropagator };
