'use strict';
// Attribute values as @opentelemetry/api defines them: a string, number or boolean, or an
// array of one of those (null and undefined entries allowed). Anything else is dropped with one
// diagnostic, never thrown.

const { once } = require('./diag');

/**
 * Whether `v` is a valid attribute value.
 * @param {unknown} v
 */
function isValue(v) {
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean') return true;
  if (!Array.isArray(v)) return false;
  let type;
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    if (e === null || e === undefined) continue;
    const et = typeof e;
    if (et !== 'string' && et !== 'number' && et !== 'boolean') return false;
    if (type === undefined) type = et;
    else if (et !== type) return false;
  }
  return true;
}

/** Reports an invalid key or value once. */
function invalid(key, value) {
  if (typeof key !== 'string' || key.length === 0) {
    once('attribute-key', `invalid attribute key ${String(key)} (keys are non-empty strings): the attribute is dropped`);
  } else {
    once(
      'attribute-value',
      `invalid value for attribute "${key}" (${describe(value)}): values are strings, numbers, booleans or arrays of one of those; the attribute is dropped`,
    );
  }
}

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array of mixed or non-primitive values';
  return typeof v === 'object' ? 'an object' : typeof v;
}

/**
 * Appends the valid entries of an attributes object to `out` as key, value, key, value...
 * (arrays copied, as the specification asks).
 * @param {unknown} attrs
 * @param {unknown[]} out
 */
function collect(attrs, out) {
  if (attrs === null || typeof attrs !== 'object') {
    if (attrs !== undefined) once('attributes', `attributes must be an object, got ${typeof attrs}: ignored`);
    return out;
  }
  for (const k in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
    const v = attrs[k];
    if (v === undefined) {
      invalid(k, v);
      continue;
    }
    if (k.length === 0 || !isValue(v)) {
      invalid(k, v);
      continue;
    }
    out.push(k, Array.isArray(v) ? v.slice() : v);
  }
  return out;
}

module.exports = { isValue, invalid, collect };
