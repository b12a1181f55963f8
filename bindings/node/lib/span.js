'use strict';
// A live span: a plain JavaScript object. Nothing crosses into Rust until end(), which appends
// the span to its provider's packed batch (lib/batch.js). Span methods never throw: bad input
// is dropped with one diagnostic.

const { SpanStatusCode, isSpanContextValid } = require('./api');
const attributes = require('./attributes');
const time = require('./time');
const { once } = require('./diag');

const TRACEPARENT_PREFIX = '00-';
const TRACEPARENT_FLAGS = ['-00', '-01', '-02', '-03'];

class Span {
  /**
   * Fields are set by the tracer (lib/tracer.js); all of them exist from the start so every
   * span shares one hidden class.
   */
  constructor(tracer, name, kind, flags, tid, to, sid, so, t0, t1, t2, t3, s0, s1, ts, par, p0, p1, start, rec) {
    this._tr = tracer;
    this._name = name;
    this._kind = kind;
    this._flags = flags;
    /**
     * The trace id in hex: the id itself when `_to` is -1, else the id block of lib/ids.js it
     * starts in at `_to` (sliced out on first use, `_traceId()`). Likewise `_sid`/`_so`.
     */
    this._tid = tid;
    this._to = to;
    this._sid = sid;
    this._so = so;
    this._t0 = t0;
    this._t1 = t1;
    this._t2 = t2;
    this._t3 = t3;
    this._s0 = s0;
    this._s1 = s1;
    /** The trace state (an API `TraceState`) or undefined. */
    this._ts = ts;
    /** Parent bits: 1 has a parent, 2 the parent is remote. */
    this._par = par;
    this._p0 = p0;
    this._p1 = p1;
    this._start = start;
    /** End time, or -Infinity while live. */
    this._end = -Infinity;
    this._rec = rec;
    /** Attributes as key, value, key, value... (later duplicates win, in the core). */
    this._attrs = [];
    this._events = null;
    this._links = null;
    /** setStatus calls as code, description pairs (the core applies the precedence rule). */
    this._st = null;
    /** Attributes, events and links discarded past the core's caps (exported as dropped). */
    this._da = 0;
    this._de = 0;
    this._dl = 0;
    this._sc = undefined;
    /** The `traceparent` header, made on the first inject. */
    this._tp = undefined;
  }

  /**
   * This span's `traceparent`: the concatenation of the core-made hex ids with the flag bits
   * the core writes (a test checks it equals the core writer's output). Made once per span and
   * kept: a second inject costs a field read, and the string V8 flattened when it was first
   * read (by a reader in this process) stays flat.
   */
  _traceparent() {
    let tp = this._tp;
    if (tp === undefined) {
      tp = TRACEPARENT_PREFIX + this._traceId() + '-' + this._spanId() + TRACEPARENT_FLAGS[this._flags & 3];
      this._tp = tp;
    }
    return tp;
  }

  /** The trace id as 32 lowercase hex characters. */
  _traceId() {
    const o = this._to;
    if (o >= 0) {
      this._tid = this._tid.substring(o, o + 32);
      this._to = -1;
    }
    return this._tid;
  }

  /** The span id as 16 lowercase hex characters. */
  _spanId() {
    const o = this._so;
    if (o >= 0) {
      this._sid = this._sid.substring(o, o + 16);
      this._so = -1;
    }
    return this._sid;
  }

  spanContext() {
    let sc = this._sc;
    if (sc === undefined) {
      sc = { traceId: this._traceId(), spanId: this._spanId(), traceFlags: this._flags, isRemote: false };
      if (this._ts !== undefined) sc.traceState = this._ts;
      this._sc = sc;
    }
    return sc;
  }

  /** False after end() and for spans the sampler dropped. */
  isRecording() {
    return this._rec && this._end === -Infinity;
  }

  _live(what) {
    if (this._end === -Infinity) return this._rec;
    if (this._rec) once('ended', `${what} on an ended span "${this._name}" is ignored`);
    return false;
  }

  setAttribute(key, value) {
    if (!this._live('setAttribute')) return this;
    const t = typeof value;
    if (typeof key === 'string' && key.length !== 0 && (t === 'string' || t === 'number' || t === 'boolean')) {
      const a = this._attrs;
      a.push(key, value);
      if (a.length > this._tr._p.caps.compactAt) compact(this);
    } else if (typeof key === 'string' && key.length !== 0 && Array.isArray(value) && attributes.isValue(value)) {
      this._attrs.push(key, value.slice());
    } else {
      attributes.invalid(key, value);
    }
    return this;
  }

  setAttributes(attrs) {
    if (!this._live('setAttributes')) return this;
    attributes.collect(attrs, this._attrs);
    if (this._attrs.length > this._tr._p.caps.compactAt) compact(this);
    return this;
  }

  addEvent(name, attributesOrStartTime, startTime) {
    if (!this._live('addEvent')) return this;
    let attrs = attributesOrStartTime;
    let t = startTime;
    if (isTimeInput(attributesOrStartTime)) {
      t = attributesOrStartTime;
      attrs = undefined;
    }
    const events = this._events || (this._events = []);
    if (events.length >= this._tr._p.caps.events) {
      this._de++;
      once('events', `span "${this._name}" has more events than the limit (OTEL_SPAN_EVENT_COUNT_LIMIT): later ones are dropped`);
      return this;
    }
    events.push([
      0,
      t === undefined ? time.now() : time.fromInput(t),
      typeof name === 'string' ? name : String(name),
      attrs === undefined ? [] : attributes.collect(attrs, []),
    ]);
    return this;
  }

  addLink(link) {
    if (!this._live('addLink')) return this;
    addLinkTo(this, link);
    return this;
  }

  addLinks(links) {
    if (!this._live('addLinks')) return this;
    if (!Array.isArray(links)) {
      once('links', 'addLinks expects an array of links: ignored');
      return this;
    }
    for (let i = 0; i < links.length; i++) addLinkTo(this, links[i]);
    return this;
  }

  setStatus(status) {
    if (!this._live('setStatus')) return this;
    const code = status && status.code;
    if (code !== SpanStatusCode.UNSET && code !== SpanStatusCode.OK && code !== SpanStatusCode.ERROR) {
      once('status', `invalid status ${JSON.stringify(status)}: ignored`);
      return this;
    }
    // Every call is handed to the core, which applies the precedence rule (OK is final, UNSET
    // changes nothing); the first caps.statusCalls calls are kept.
    const st = this._st || (this._st = []);
    if (st.length < 2 * this._tr._p.caps.statusCalls) {
      st.push(code, code === SpanStatusCode.ERROR && typeof status.message === 'string' ? status.message : '');
    }
    return this;
  }

  updateName(name) {
    if (!this._live('updateName')) return this;
    this._name = typeof name === 'string' ? name : String(name);
    return this;
  }

  recordException(exception, t) {
    if (!this._live('recordException')) return;
    let type = '';
    let message = '';
    let stack;
    if (typeof exception === 'string') {
      message = exception;
    } else if (exception !== null && typeof exception === 'object') {
      if (exception.code !== undefined && exception.code !== null) type = String(exception.code);
      else if (typeof exception.name === 'string') type = exception.name;
      if (typeof exception.message === 'string') message = exception.message;
      if (typeof exception.stack === 'string') stack = exception.stack;
    }
    if (type === '' && message === '') {
      once('exception', `cannot record the exception ${String(exception)}: it has neither a type nor a message`);
      return;
    }
    const events = this._events || (this._events = []);
    if (events.length >= this._tr._p.caps.events) {
      this._de++;
      return;
    }
    events.push([1, t === undefined ? time.now() : time.fromInput(t), type, message, stack, []]);
  }

  end(endTime) {
    if (this._end !== -Infinity) {
      if (this._rec) once('end', `span "${this._name}" was ended twice; the second end() is ignored`);
      return;
    }
    this._end = endTime === undefined ? time.now() : time.fromInput(endTime);
    if (this._rec) this._tr._p.batch.add(this);
  }
}

/** @returns {boolean} */
function isTimeInput(v) {
  return (
    typeof v === 'number' ||
    v instanceof Date ||
    (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number')
  );
}

function addLinkTo(span, link) {
  const sc = link && link.context;
  if (!sc || typeof sc.traceId !== 'string' || typeof sc.spanId !== 'string') {
    once('link', 'a link without a span context is ignored');
    return;
  }
  const attrs = link.attributes === undefined ? [] : attributes.collect(link.attributes, []);
  // The format's cap rule (docs/finished-spans.md, "Caps"): a link with an invalid context and
  // no attributes is dropped silently by the specification, so it is neither kept nor counted.
  if (attrs.length === 0 && !isSpanContextValid(sc)) return;
  const links = span._links || (span._links = []);
  if (links.length >= span._tr._p.caps.links) {
    span._dl++;
    once('links-limit', `span "${span._name}" has more links than the limit (OTEL_SPAN_LINK_COUNT_LIMIT): later ones are dropped`);
    return;
  }
  links.push([
    sc.traceId,
    sc.spanId,
    typeof sc.traceFlags === 'number' ? sc.traceFlags : 0,
    sc.traceState ? sc.traceState.serialize() : '',
    sc.isRemote === true,
    attrs,
  ]);
}

/**
 * Folds repeated keys into their first position (the later value wins) and discards new keys
 * past the attribute cap, counting them — what the core does with every call, so a span that
 * sets keys forever stays bounded and its exported dropped count stays exact.
 */
function compact(span) {
  const a = span._attrs;
  const limit = span._tr._p.caps.attributes;
  const map = new Map();
  let discarded = 0;
  for (let i = 0; i < a.length; i += 2) {
    if (map.has(a[i]) || map.size < limit) map.set(a[i], a[i + 1]);
    else discarded++;
  }
  const out = [];
  for (const [k, v] of map) out.push(k, v);
  if (discarded !== 0) {
    span._da += discarded;
    once('attributes-limit', `span "${span._name}" has more attributes than the limit: later keys are dropped`);
  }
  span._attrs = out;
}

module.exports = { Span };
