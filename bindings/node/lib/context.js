'use strict';
// A light `Context` for the contexts polytrace makes on hot paths: a span made active
// (`startActiveSpan`) and a remote parent (`extract`).
//
// The API's own context (`BaseContext`) copies its parent's Map and creates three closures on
// every `setValue`; measured here that is ~150 ns of a ~200 ns `trace.setSpanContext`. A
// `LinkedContext` is one small object pointing at its parent: `getValue` walks the (short)
// chain, `setValue`/`deleteValue` add a link. It implements the whole `Context` interface, so
// any code that receives it (context managers, instrumentations, the official SDK) works
// unchanged; a chain longer than MAX_DEPTH links is folded into its base context with the
// base's own `setValue`/`deleteValue`, so lookups stay bounded.

const { trace } = require('./api');

/** @import * as otel from '@opentelemetry/api' */

/**
 * The API's key of the active span, found through the public `trace.getSpan`, which reads it
 * with `getValue`. `undefined` if an API version ever reads it differently: then the API's
 * `trace.setSpan` is used.
 * @type {symbol | undefined}
 */
const SPAN_KEY = (() => {
  /** @type {unknown} */
  let key;
  try {
    trace.getSpan(/** @type {any} */ ({ getValue: (/** @type {unknown} */ k) => void (key = k) }));
  } catch {
    return undefined;
  }
  return typeof key === 'symbol' ? key : undefined;
})();

/** Links at most before a chain is folded into its base context. */
const MAX_DEPTH = 16;
/** The value of a deleted key. */
const DELETED = Symbol('polytrace.deleted');

/** @implements {otel.Context} */
class LinkedContext {
  /**
   * @param {otel.Context} parent
   * @param {symbol} key
   * @param {unknown} value
   * @param {number} depth links from the base context, this one included
   */
  constructor(parent, key, value, depth) {
    this._parent = parent;
    this._key = key;
    this._value = value;
    this._depth = depth;
  }

  /** @param {symbol} key */
  getValue(key) {
    /** @type {otel.Context} */
    let c = this;
    do {
      const l = /** @type {LinkedContext} */ (c);
      if (l._key === key) return l._value === DELETED ? undefined : l._value;
      c = l._parent;
    } while (c instanceof LinkedContext);
    return c.getValue(key);
  }

  /** @param {symbol} key @param {unknown} value @returns {otel.Context} */
  setValue(key, value) {
    return link(this, key, value);
  }

  /** @param {symbol} key @returns {otel.Context} */
  deleteValue(key) {
    return link(this, key, DELETED);
  }
}

/**
 * `parent` with `key` set to `value` (DELETED: removed).
 * @param {otel.Context} parent
 * @param {symbol} key
 * @param {unknown} value
 * @returns {otel.Context}
 */
function link(parent, key, value) {
  if (!(parent instanceof LinkedContext)) return new LinkedContext(parent, key, value, 1);
  if (parent._depth < MAX_DEPTH) return new LinkedContext(parent, key, value, parent._depth + 1);
  // Fold the chain into its base, oldest link first (later links win).
  /** @type {LinkedContext[]} */
  const chain = [];
  /** @type {otel.Context} */
  let c = parent;
  while (c instanceof LinkedContext) {
    chain.push(c);
    c = c._parent;
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const l = chain[i];
    c = l._value === DELETED ? c.deleteValue(l._key) : c.setValue(l._key, l._value);
  }
  return new LinkedContext(c, key, value, 1);
}

/**
 * `ctx` with `span` as its span: what `trace.setSpan` returns, made cheaper.
 * @param {otel.Context} ctx
 * @param {otel.Span} span
 * @returns {otel.Context}
 */
function withSpan(ctx, span) {
  if (SPAN_KEY === undefined || ctx === null || typeof ctx !== 'object') return trace.setSpan(ctx, span);
  return link(ctx, SPAN_KEY, span);
}

module.exports = { withSpan, LinkedContext, MAX_DEPTH };
