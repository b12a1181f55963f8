'use strict';
// Tracer: starts spans without calling into Rust. The span id (and a new trace's id) come from
// the core-filled pool (lib/ids.js); the decision and the trace flags from the core's start
// plan (docs/finished-spans.md, "Starting a span"), applied as it says: per kind of parent a
// decision and `flags = (parentFlags & keep) | set`. Only where the plan says "ask" (a sampler
// that must look at the trace id, the clock or the name) is the core asked, through `begin`.

const api = require('./api');
const { Span } = require('./span');
const { pool, hexWords } = require('./ids');
const attributes = require('./attributes');
const time = require('./time');
const { once } = require('./diag');
const { withSpan } = require('./context');

const { context, trace, isSpanContextValid, INVALID_SPAN_CONTEXT } = api;

/** Plan decisions (`StartPlan::to_table`). */
const DROP = 0;
const RECORD_ONLY = 1;
const SAMPLE = 2;
const ASK = 3;
/** The W3C `sampled` trace flag, which picks the plan's case for a parent. */
const SAMPLED = 1;

const HAS_UPPER = /[A-F]/;

/** A valid hex id (`isSpanContextValid` passed) in lowercase; the usual lowercase id as is. */
function lowerHex(id) {
  return HAS_UPPER.test(id) ? id.toLowerCase() : id;
}

class Tracer {
  /**
   * @param {object} p the provider's shared state (lib/state.js)
   * @param {number} ti the tracer's number in the native provider
   */
  constructor(p, ti) {
    this._p = p;
    this._ti = ti;
  }

  startSpan(name, options, ctx) {
    const p = this._p;
    if (typeof name !== 'string') {
      once('span-name', `span names are strings, got ${typeof name}: converted`);
      name = String(name);
    }
    if (ctx === undefined) ctx = context.active();
    let parent = options !== undefined && options !== null && options.root ? undefined : trace.getSpan(ctx);
    const plan = p.plan;
    // The parent: one of our spans (fields read directly), or any other span's context.
    let psc;
    let local = false;
    if (parent !== undefined) {
      if (parent instanceof Span) {
        local = true;
      } else {
        psc = parent.spanContext();
        if (!isSpanContextValid(psc)) {
          parent = undefined;
          psc = undefined;
        }
      }
    }
    if (plan[0] === 1) {
      // Disabled or shut down: non-recording, carrying the parent's context on.
      return trace.wrapSpanContext(local ? parent.spanContext() : psc || INVALID_SPAN_CONTEXT);
    }
    const kind = options !== undefined && options !== null && typeof options.kind === 'number' ? options.kind & 7 : 0;
    const pflags = parent === undefined ? 0 : local ? parent._flags : psc.traceFlags;
    // The plan's case: [decision, keepFlags, setFlags] at 1 (root), 4 (sampled parent) or 7.
    const c = parent === undefined ? 1 : pflags & SAMPLED ? 4 : 7;
    const decision = plan[c];

    let flags, tid, t0, t1, t2, t3, sid, s0, s1, ts;
    // Where the hex ids start in `tid`/`sid` (see Span: -1 = they are the ids themselves).
    let to = -1;
    let so = -1;
    let par = 0;
    let p0 = 0;
    let p1 = 0;
    let rec;
    if (parent !== undefined) {
      if (local) {
        tid = parent._tid;
        to = parent._to;
        t0 = parent._t0;
        t1 = parent._t1;
        t2 = parent._t2;
        t3 = parent._t3;
        ts = parent._ts;
        p0 = parent._s0;
        p1 = parent._s1;
        par = 1;
      } else {
        // The API accepts ids in either case; spans carry them in lowercase, as W3C writes them.
        tid = lowerHex(psc.traceId);
        const tw = hexWords(tid, 4);
        const sw = hexWords(lowerHex(psc.spanId), 2);
        [t0, t1, t2, t3] = tw;
        [p0, p1] = sw;
        ts = psc.traceState;
        par = psc.isRemote ? 3 : 1;
      }
    }
    if (decision === ASK) {
      const b = p.native.begin(
        this._ti,
        name,
        kind,
        parent === undefined
          ? undefined
          : {
              traceId: local ? parent._traceId() : tid,
              spanId: local ? parent._spanId() : lowerHex(psc.spanId),
              flags: pflags,
              traceState: ts ? ts.serialize() : undefined,
              isRemote: par === 3,
            },
      );
      tid = b.traceId;
      to = -1;
      sid = b.spanId;
      flags = b.flags;
      rec = b.recording;
      const w = b.words;
      t0 = w[0] | 0;
      t1 = w[1] | 0;
      t2 = w[2] | 0;
      t3 = w[3] | 0;
      s0 = w[4] | 0;
      s1 = w[5] | 0;
    } else {
      if (pool.sNext === pool.SPAN_IDS) pool.refillSpans();
      const i = pool.sNext++;
      s0 = pool.si[2 * i];
      s1 = pool.si[2 * i + 1];
      // The ids' hex is sliced out of the pool's block only when asked for (spanContext(),
      // inject): most spans never are, and a slice is an allocation.
      sid = pool.sHex;
      so = 16 * i;
      if (parent === undefined) {
        if (pool.tNext === pool.TRACE_IDS) pool.refillTraces();
        const j = pool.tNext++;
        t0 = pool.ti[4 * j];
        t1 = pool.ti[4 * j + 1];
        t2 = pool.ti[4 * j + 2];
        t3 = pool.ti[4 * j + 3];
        tid = pool.tHex;
        to = 32 * j;
      }
      flags = (pflags & plan[c + 1]) | plan[c + 2];
      rec = decision === SAMPLE || decision === RECORD_ONLY;
      if (rec) p.batch.started++;
    }
    let start;
    if (options !== undefined && options !== null && options.startTime !== undefined) {
      start = time.fromInput(options.startTime);
    } else {
      start = time.now();
    }
    const span = new Span(this, name, kind, flags, tid, to, sid, so, t0, t1, t2, t3, s0, s1, ts, par, p0, p1, start, rec);
    if (rec && options !== undefined && options !== null) {
      if (options.attributes !== undefined) attributes.collect(options.attributes, span._attrs);
      if (options.links !== undefined) span.addLinks(options.links);
    }
    return span;
  }

  startActiveSpan(name, arg2, arg3, arg4) {
    let opts;
    let ctx;
    let fn;
    if (arguments.length < 2) return undefined;
    if (arguments.length === 2) {
      fn = arg2;
    } else if (arguments.length === 3) {
      opts = arg2;
      fn = arg3;
    } else {
      opts = arg2;
      ctx = arg3;
      fn = arg4;
    }
    if (typeof fn !== 'function') return undefined;
    const parentCtx = ctx === undefined || ctx === null ? context.active() : ctx;
    const span = this.startSpan(name, opts, parentCtx);
    return context.with(withSpan(parentCtx, span), fn, undefined, span);
  }
}

module.exports = { Tracer, DROP, RECORD_ONLY, SAMPLE, ASK };
