'use strict';
// The batch: finished spans appended to one buffer in the core's finished-span format
// (docs/finished-spans.md, version 1), which crosses into Rust in a single call per batch and
// is decoded by the core (polytrace_core::finished::Decoder), which applies every span rule.
// A span is encoded at end() and then forgotten, so nothing here holds user objects.
//
// A batch is handed over when it reaches FLUSH_SPANS spans or FLUSH_BYTES bytes, at the end of
// the current event-loop turn (an unref'd setImmediate), and before flush, shutdown, stats
// and process exit. Memory is bounded by one batch (plus one oversized span).

const { once } = require('./diag');
const { ORIGIN } = require('./time');

/** The header: magic, version, time format (1: f64 ms since ORIGIN), flags, span count, origin. */
const MAGIC = 0x50;
const VERSION = 1;
const MILLIS = 1;
const HEADER = 16;
const FRESH = 1;
/** Record types. */
const SPAN = 1;
const STARTED = 2;
/** Longest string written, in UTF-16 units: a string tag holds 29 bits of UTF-8 length. */
const MAX_STR = 1 << 26;

const INITIAL = 64 * 1024;
const FLUSH_BYTES = 48 * 1024;
const FLUSH_SPANS = 256;
/** Strings numbered per provider at most (names, keys, short values). */
const MAX_STRINGS = 8192;
/** Of which attribute values at most (they are more often unique). */
const MAX_VALUE_STRINGS = 2048;
const MAX_NAME_LEN = 256;
const MAX_VALUE_LEN = 32;
/** Entries of the direct-mapped cache in front of the string numbers (a power of two). */
const CACHE = 256;

/** Interning modes of `str`. */
const NEVER = 0;
const NAME = 1;
const VALUE = 2;

class Batch {
  /**
   * @param {(batch: Uint8Array, length: number) => number} submit hands a batch to the core;
   *   returns 1 when the core lost it and string numbering must start afresh
   */
  constructor(submit) {
    this.submitFn = submit;
    this.alloc(INITIAL);
    this.off = HEADER;
    this.spans = 0;
    /** Recording spans started from the plan since the last hand-over. */
    this.started = 0;
    this.strings = new Map();
    /**
     * A direct-mapped cache of `strings` (slot by length and middle character): the same few
     * names and keys recur on every span, and comparing a string with the slot's (the same
     * string object: one pointer comparison) is cheaper than a Map lookup.
     * @type {(string | undefined)[]}
     */
    this.cacheKeys = new Array(CACHE).fill(undefined);
    this.cacheIds = new Int32Array(CACHE);
    this.valueStrings = 0;
    /** The next batch starts numbering strings afresh (the first, and after the core lost one). */
    this.fresh = true;
    this.timer = null;
    this.flushSpans = FLUSH_SPANS;
    this.flushCb = () => {
      this.timer = null;
      this.flush();
    };
  }

  alloc(n) {
    this.ab = new ArrayBuffer(n);
    this.u8a = new Uint8Array(this.ab);
    this.dv = new DataView(this.ab);
    this.buf = Buffer.from(this.ab);
    this.cap = n;
    this.dv.setUint32(0, MAGIC | (VERSION << 8) | (MILLIS << 16), true);
    this.dv.setFloat64(8, ORIGIN, true);
  }

  grow(min) {
    let c = this.cap * 2;
    while (c < min) c *= 2;
    const old = this.u8a;
    const len = this.off;
    this.alloc(c);
    this.u8a.set(old.subarray(0, len));
  }

  u8(v) {
    if (this.off + 1 > this.cap) this.grow(this.off + 1);
    this.u8a[this.off++] = v;
  }

  u32(v) {
    if (this.off + 4 > this.cap) this.grow(this.off + 4);
    this.dv.setUint32(this.off, v, true);
    this.off += 4;
  }

  f64(v) {
    if (this.off + 8 > this.cap) this.grow(this.off + 8);
    this.dv.setFloat64(this.off, v, true);
    this.off += 8;
  }

  /** A string, numbered on first use when `mode` allows (docs/finished-spans.md, `str`). */
  str(s, mode) {
    if (mode !== NEVER) {
      const n = s.length;
      const slot = (n * 31 + s.charCodeAt(n >> 1)) & (CACHE - 1);
      if (this.cacheKeys[slot] === s) {
        this.u32(this.cacheIds[slot] * 8);
        return;
      }
      const id = this.strings.get(s);
      if (id !== undefined) {
        this.cacheKeys[slot] = s;
        this.cacheIds[slot] = id;
        this.u32(id * 8);
        return;
      }
      if (
        this.strings.size < MAX_STRINGS &&
        (mode === NAME ? n <= MAX_NAME_LEN : n <= MAX_VALUE_LEN && this.valueStrings < MAX_VALUE_STRINGS)
      ) {
        if (mode === VALUE) this.valueStrings++;
        this.cacheKeys[slot] = s;
        this.cacheIds[slot] = this.strings.size;
        this.strings.set(s, this.strings.size);
        this.inline(s, 2);
        return;
      }
    }
    this.inline(s, 1);
  }

  inline(s, mode) {
    if (s.length > MAX_STR) s = s.substring(0, MAX_STR);
    const n = s.length;
    const max = 4 + n * 3;
    if (this.off + max > this.cap) this.grow(this.off + max);
    const u8 = this.u8a;
    const start = this.off + 4;
    let i = 0;
    if (n <= 64) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 128) break;
        u8[start + i] = c;
      }
    }
    const len = i === n ? n : this.buf.write(s, start);
    this.dv.setUint32(this.off, len * 8 + mode, true);
    this.off = start + len;
  }

  value(v) {
    switch (typeof v) {
      case 'string':
        this.u8(0);
        this.str(v, VALUE);
        return;
      case 'number':
        this.u8(Number.isSafeInteger(v) ? 1 : 2);
        this.f64(v);
        return;
      case 'boolean':
        this.u8(v ? 4 : 3);
        return;
      default:
        this.array(v);
    }
  }

  array(a) {
    let type;
    let n = 0;
    let ints = true;
    for (let i = 0; i < a.length; i++) {
      const e = a[i];
      if (e === null || e === undefined) continue;
      n++;
      if (type === undefined) type = typeof e;
      if (type === 'number' && !Number.isSafeInteger(e)) ints = false;
    }
    if (n !== a.length) {
      once('array-null', 'null and undefined entries of array attribute values are dropped');
    }
    if (type === 'number') {
      this.u8(ints ? 6 : 7);
      this.u32(n);
      for (let i = 0; i < a.length; i++) if (a[i] !== null && a[i] !== undefined) this.f64(a[i]);
    } else if (type === 'boolean') {
      this.u8(8);
      this.u32(n);
      for (let i = 0; i < a.length; i++) if (a[i] !== null && a[i] !== undefined) this.u8(a[i] ? 1 : 0);
    } else {
      this.u8(5);
      this.u32(n);
      for (let i = 0; i < a.length; i++) if (a[i] !== null && a[i] !== undefined) this.str(a[i], NEVER);
    }
  }

  /** Attributes kept as key, value, key, value... */
  attrs(a) {
    this.u32(a.length >> 1);
    for (let i = 0; i < a.length; i += 2) {
      this.str(a[i], NAME);
      this.value(a[i + 1]);
    }
  }

  /** Appends a finished span (see lib/span.js for the fields). */
  add(s) {
    const ts = s._ts === undefined ? '' : s._ts.serialize();
    const discarded = s._da !== 0 || s._de !== 0 || s._dl !== 0;
    const bits = s._par | (ts !== '' ? 4 : 0) | (discarded ? 8 : 0);
    if (this.off + 56 > this.cap) this.grow(this.off + 56);
    const dv = this.dv;
    let o = this.off;
    dv.setUint32(o, SPAN | (s._kind << 8) | (s._flags << 16) | (bits << 24), true);
    dv.setUint32(o + 4, s._tr._ti, true);
    dv.setUint32(o + 8, s._t0, true);
    dv.setUint32(o + 12, s._t1, true);
    dv.setUint32(o + 16, s._t2, true);
    dv.setUint32(o + 20, s._t3, true);
    dv.setUint32(o + 24, s._s0, true);
    dv.setUint32(o + 28, s._s1, true);
    o += 32;
    if (bits & 1) {
      dv.setUint32(o, s._p0, true);
      dv.setUint32(o + 4, s._p1, true);
      o += 8;
    }
    dv.setFloat64(o, s._start, true);
    dv.setFloat64(o + 8, s._end, true);
    this.off = o + 16;
    this.str(s._name, NAME);
    if (ts !== '') this.str(ts, NEVER);
    this.attrs(s._attrs);
    const events = s._events;
    if (events === null) {
      this.u32(0);
    } else {
      this.u32(events.length);
      for (let i = 0; i < events.length; i++) this.event(events[i]);
    }
    const links = s._links;
    if (links === null) {
      this.u32(0);
    } else {
      this.u32(links.length);
      for (let i = 0; i < links.length; i++) this.link(links[i]);
    }
    const st = s._st;
    if (st === null) {
      this.u32(0);
    } else {
      // setStatus calls as code, description pairs; the core applies the precedence rule.
      this.u32(st.length >> 1);
      for (let i = 0; i < st.length; i += 2) {
        this.u8(st[i]);
        if (st[i] === 2) this.str(st[i + 1], NEVER);
      }
    }
    if (discarded) {
      this.u32(s._da);
      this.u32(s._de);
      this.u32(s._dl);
    }
    this.spans++;
    if (this.off >= FLUSH_BYTES || this.spans >= this.flushSpans) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = setImmediate(this.flushCb);
      this.timer.unref();
    }
  }

  /** `[0, time, name, attrs]` or `[1, time, type, message, stack|undefined, attrs]`. */
  event(e) {
    this.u8(e[0]);
    this.f64(e[1]);
    if (e[0] === 0) {
      this.str(e[2], NAME);
      this.attrs(e[3]);
    } else {
      this.str(e[2], NAME);
      this.str(e[3], NEVER);
      if (e[4] === undefined) {
        this.u8(0);
      } else {
        this.u8(1);
        this.str(e[4], NEVER);
      }
      this.attrs(e[5]);
    }
  }

  /** `[traceId, spanId, flags, traceStateHeader, isRemote, attrs]`, ids as the API's hex. */
  link(l) {
    const ts = l[3];
    this.u8((ts !== '' ? 1 : 0) | (l[4] ? 2 : 0) | 4);
    this.u8(l[2] & 0xff);
    this.str(l[0], NEVER);
    this.str(l[1], NEVER);
    if (ts !== '') this.str(ts, NEVER);
    this.attrs(l[5]);
  }

  /** Hands the batch to the core. Never throws. */
  flush() {
    const spans = this.spans;
    const started = this.started;
    if (spans === 0 && started === 0) return;
    if (started !== 0) {
      this.u8(STARTED);
      this.u32(started);
    }
    const len = this.off;
    this.dv.setUint8(3, this.fresh ? FRESH : 0);
    this.dv.setUint32(4, spans, true);
    this.off = HEADER;
    this.spans = 0;
    this.started = 0;
    this.fresh = false;
    let reset;
    try {
      reset = this.submitFn(this.u8a, len);
    } catch (e) {
      reset = 1;
      once('submit', `a batch of spans was lost: ${e && e.message}`, 'error');
    }
    if (reset === 1) {
      // The core could not read a batch and forgot its string numbers: start again.
      this.strings.clear();
      this.cacheKeys.fill(undefined);
      this.valueStrings = 0;
      this.fresh = true;
    }
    if (this.cap > INITIAL * 4) this.alloc(INITIAL);
  }
}

module.exports = { Batch };
