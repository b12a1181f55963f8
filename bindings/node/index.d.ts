/**
 * Counters of a provider's pipeline.
 */
export type Stats = {
    /**
     * recording spans started (sampled or record-only)
     */
    spansStarted: number;
    /**
     * recording spans ended
     */
    spansEnded: number;
    /**
     * spans the exporter confirmed
     */
    spansExported: number;
    /**
     * sum of the `dropped*` counters
     */
    spansDropped: number;
    /**
     * dropped because the queue was full (back end slow or down)
     */
    droppedQueueFull: number;
    /**
     * dropped because their export failed for good
     */
    droppedExportFailed: number;
    /**
     * dropped at shutdown: ended after it began, or not sent by its deadline
     */
    droppedShutdown: number;
    /**
     * lost in a batch the core could not read (a polytrace bug)
     */
    droppedInvalid: number;
    /**
     * export calls that failed
     */
    exportFailures: number;
    /**
     * spans the sampler started with the `sampled` flag
     */
    spansSampled: number;
    /**
     * spans the sampler started without the `sampled` flag
     */
    spansNotSampled: number;
    /**
     * strategies fetched by the remote sampler (`jaeger_remote`)
     */
    samplerPolls: number;
    /**
     * failed fetches of the remote sampler's strategy
     */
    samplerPollFailures: number;
};
/**
 * Options of a provider: any option of docs/configuration.md, in camelCase (or snake_case),
 * over the `OTEL_*` environment. E.g. `serviceName`, `exporter` (`otlp`, `console`, `file`,
 * `none`), `endpoint`, `protocol`, `headers`, `sampler`, `samplerArg`, `maxQueueSize`,
 * `scheduleDelay`, `exportTimeout`, `propagators`, `resourceAttributes`.
 */
export type ProviderOptions = Record<string, string | number | boolean | string[] | Record<string, string> | undefined>;
/**
 * How `register()` installs the provider; `null` leaves that global alone.
 */
export type RegisterOptions = {
    /**
     * default: a new `AsyncLocalStorageContextManager`
     */
    contextManager?: otel.ContextManager | null;
    /**
     * default: the core's W3C propagator (`OTEL_PROPAGATORS`)
     */
    propagator?: otel.TextMapPropagator | null;
};
/**
 * An `@opentelemetry/api` `TracerProvider` whose spans are recorded, batched and exported by
 * the polytrace core. Configured by `OTEL_*` variables and `options` (options win).
 * @implements {otel.TracerProvider}
 */
export class TracerProvider implements otel.TracerProvider {
    /**
     * @param {ProviderOptions} [opts]
     * @throws {TypeError} an unknown option, the same option twice or a value of a type the option
     *   never takes; `code` is `'InvalidConfig'`, `option` the option's name, `problem` the core's
     *   `'UnknownOption'`, `'DuplicateOption'` or `'WrongType'`
     * @throws {RangeError} a value the option does not accept (`problem: 'BadValue'`; `code` and
     *   `option` as above)
     */
    constructor(opts?: ProviderOptions);
    /**
     * A tracer for an instrumentation scope (cached by name, version and schema URL).
     * @param {string} name
     * @param {string} [version]
     * @param {otel.TracerOptions} [tracerOptions]
     * @returns {otel.Tracer}
     */
    getTracer(name: string, version?: string, tracerOptions?: otel.TracerOptions): otel.Tracer;
    /**
     * Installs this provider as the global tracer provider, with an
     * `AsyncLocalStorageContextManager` and the core's W3C propagator (unless told otherwise).
     * @param {RegisterOptions} [config]
     * @returns {this}
     */
    register(config?: RegisterOptions): this;
    /**
     * The core's W3C propagator for this provider's `OTEL_PROPAGATORS`.
     * @returns {W3CPropagator}
     */
    propagator(): W3CPropagator;
    /**
     * Exports every ended span now. Runs on libuv's thread pool: the event loop never waits.
     * Rejects with an Error whose `code` is `'Timeout'` when the back end did not take the spans
     * in time (they stay queued).
     * @param {number} [timeoutMillis] default: the export timeout (`OTEL_BSP_EXPORT_TIMEOUT`)
     * @returns {Promise<void>}
     */
    forceFlush(timeoutMillis?: number): Promise<void>;
    /**
     * Exports what is queued and stops: later spans are non-recording. Everything is done within
     * `timeoutMillis` plus at most 0.4 s: what the back end did not take by then is counted as
     * dropped in `stats()`, and a back end that refuses connections is not retried. Calling it
     * again returns the same promise. Rejects like `forceFlush`.
     * @param {number} [timeoutMillis] default: the exit bound (the OTLP timeout, or less)
     * @returns {Promise<void>}
     */
    shutdown(timeoutMillis?: number): Promise<void>;
    /**
     * The pipeline's counters (spans handed over to the core so far).
     * @returns {Stats}
     */
    stats(): Stats;
    /**
     * The effective configuration (option name → canonical string), as resolved by the core.
     * @returns {Record<string, string>}
     */
    config(): Record<string, string>;
    #private;
}
/**
 * A `ContextManager` on `node:async_hooks`' `AsyncLocalStorage`: the active context follows
 * callbacks, promises and `await`. `bind()` also binds EventEmitter listeners (as the
 * OpenTelemetry HTTP instrumentation expects).
 * @implements {otel.ContextManager}
 */
export class AsyncLocalStorageContextManager implements otel.ContextManager {
    /** @returns {otel.Context} */
    active(): otel.Context;
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
    with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: otel.Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F>;
    /**
     * Binds a function or an EventEmitter's listeners to `ctx`.
     * @template T
     * @param {otel.Context} ctx
     * @param {T} target
     * @returns {T}
     */
    bind<T>(ctx: otel.Context, target: T): T;
    /** @returns {this} */
    enable(): this;
    /** @returns {this} */
    disable(): this;
    #private;
}
/**
 * The core's W3C propagator (`OTEL_PROPAGATORS`: `tracecontext`, `baggage`, both or `none`) as
 * a `TextMapPropagator`. Parsing and writing are the core's, so every polytrace language reads
 * and writes the same headers.
 * @implements {otel.TextMapPropagator}
 */
export class W3CPropagator implements otel.TextMapPropagator {
    /** @param {TracerProvider} provider whose `OTEL_PROPAGATORS` configuration applies */
    constructor(provider: TracerProvider);
    /**
     * @param {otel.Context} ctx
     * @param {unknown} carrier
     * @param {otel.TextMapSetter} [setter]
     */
    inject(ctx: otel.Context, carrier: unknown, setter?: otel.TextMapSetter): void;
    /**
     * @param {otel.Context} ctx
     * @param {unknown} carrier
     * @param {otel.TextMapGetter} [getter]
     * @returns {otel.Context}
     */
    extract(ctx: otel.Context, carrier: unknown, getter?: otel.TextMapGetter): otel.Context;
    /** @returns {string[]} */
    fields(): string[];
    #private;
}
import type * as otel from '@opentelemetry/api';
