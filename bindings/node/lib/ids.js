'use strict';
// Span and trace ids come from the core's generator in blocks, so starting a span needs no
// call into Rust: one `fillIds` call fills the words (for the packed batch) and returns the
// same ids as hex (for `spanContext()`, sliced out without copying).

const native = require('./native');

const SPAN_IDS = 1024;
const TRACE_IDS = 256;
const NONE = new Uint32Array(0);
const sw = new Uint32Array(2 * SPAN_IDS);
const tw = new Uint32Array(4 * TRACE_IDS);

const pool = {
  /** Span id words, two per id (big-endian halves), filled by the core. */
  sw,
  /**
   * The same words read as signed 32-bit integers, which is how spans keep them: V8 stores a
   * small integer in a field as is, while a value of 2^31 or more (half of all random words)
   * makes the field a boxed double, one heap allocation per word per span. The batch writes
   * them back with setUint32, which takes the same 32 bits.
   */
  si: new Int32Array(sw.buffer),
  sHex: '',
  sNext: SPAN_IDS,
  /** Trace id words, four per id (and as signed integers, as `si`). */
  tw,
  ti: new Int32Array(tw.buffer),
  tHex: '',
  tNext: TRACE_IDS,
  SPAN_IDS,
  TRACE_IDS,
  refillSpans() {
    this.sHex = native.fillIds(this.sw, NONE);
    this.sNext = 0;
  },
  refillTraces() {
    this.tHex = native.fillIds(NONE, this.tw);
    this.tNext = 0;
  },
};

const HEX_WORD = /^[0-9a-f]{8}$/;

/**
 * Big-endian 32-bit words of a lowercase hex id (a context made outside polytrace), as signed
 * integers (see `pool.si`).
 * @param {string} hex
 * @param {number} words
 * @returns {number[] | undefined}
 */
function hexWords(hex, words) {
  if (typeof hex !== 'string' || hex.length !== words * 8) return undefined;
  const out = new Array(words);
  for (let i = 0; i < words; i++) {
    const part = hex.substring(i * 8, i * 8 + 8);
    if (!HEX_WORD.test(part)) return undefined;
    out[i] = parseInt(part, 16) | 0;
  }
  return out;
}

module.exports = { pool, hexWords };
