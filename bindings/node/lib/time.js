'use strict';
// Times travel as milliseconds since `performance.timeOrigin` (doubles keep sub-microsecond
// precision there for months; nanoseconds since the epoch do not fit in a double). The core
// adds the origin back (docs/finished-spans.md, time format 1).

const { performance } = require('node:perf_hooks');
const { once } = require('./diag');

const ORIGIN = performance.timeOrigin;

/** Now, in milliseconds since the time origin. */
const now = () => performance.now();

/**
 * An `@opentelemetry/api` `TimeInput` (HrTime `[s, ns]`, epoch milliseconds, a
 * `performance.now()` value, or a Date), in milliseconds since the time origin. Invalid input
 * means now (and one diagnostic), as a span method must not throw.
 * @param {unknown} t
 * @returns {number}
 */
function fromInput(t) {
  if (typeof t === 'number') {
    if (t !== t) return badTime(t);
    // The JavaScript SDK's rule: a number not after performance.now() is a performance.now()
    // value, anything later is epoch milliseconds.
    return t <= performance.now() ? t : t - ORIGIN;
  }
  if (Array.isArray(t) && t.length === 2 && typeof t[0] === 'number' && typeof t[1] === 'number') {
    return t[0] * 1e3 - ORIGIN + t[1] / 1e6;
  }
  if (t instanceof Date) {
    const ms = t.getTime();
    return ms === ms ? ms - ORIGIN : badTime(t);
  }
  return badTime(t);
}

function badTime(t) {
  once('time', `invalid time input ${String(t)}: the current time is used`);
  return performance.now();
}

module.exports = { now, fromInput, ORIGIN };
