'use strict';
// Provider options: type-checked here (a value no option can take is a TypeError naming the
// option), then resolved by the core over the OTEL_* environment, which names a bad value in an
// InvalidConfig error that becomes a TypeError (unknown option, wrong type) or a RangeError
// (a value of the right type that the option does not accept).

/**
 * Flattens `options` for the native constructor (src/convert.rs `OptionArg`).
 * @param {unknown} options
 * @returns {{name: string, tag: string, s?: string, n?: number, b?: boolean, list?: string[], map?: string[][]}[]}
 */
function toNative(options) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw typeError(`polytrace: TracerProvider options must be an object, got ${describe(options)}`);
  }
  const out = [];
  let language = false;
  for (const name of Object.keys(options)) {
    const v = options[name];
    if (v === undefined || v === null) continue;
    if (normalize(name) === 'sdk_language') language = true;
    switch (typeof v) {
      case 'string':
        out.push({ name, tag: 's', s: v });
        break;
      case 'number':
        out.push({ name, tag: Number.isInteger(v) ? 'i' : 'f', n: v });
        break;
      case 'boolean':
        out.push({ name, tag: 'b', b: v });
        break;
      case 'object':
        if (Array.isArray(v)) {
          if (!v.every((e) => typeof e === 'string')) {
            throw typeError(`polytrace: option "${name}" must be a list of strings`);
          }
          out.push({ name, tag: 'l', list: v.slice() });
        } else {
          const entries = Object.entries(v);
          if (!entries.every(([, e]) => typeof e === 'string')) {
            throw typeError(`polytrace: option "${name}" must be a map of strings to strings`);
          }
          out.push({ name, tag: 'm', map: entries });
        }
        break;
      default:
        throw typeError(
          `polytrace: option "${name}" must be a string, number, boolean, list or map, got ${describe(v)}`,
        );
    }
  }
  // The resource's telemetry.sdk.language.
  if (!language) out.push({ name: 'sdk_language', tag: 's', s: 'nodejs' });
  return out;
}

/** `maxQueueSize`, `max-queue-size` → `max_queue_size` (the core's rule, for our own check). */
function normalize(name) {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
}

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function typeError(message) {
  const e = new TypeError(message);
  e.code = 'InvalidConfig';
  return e;
}

/** What type a core message says the option wanted. */
const WANTED = [
  [/expected a boolean/, ['boolean', 'string']],
  [/expected a non-empty string|expected a string/, ['string']],
  [/expected a number|expected an integer/, ['number', 'string']],
  [/expected a list/, ['list', 'string']],
  [/expected a map/, ['map', 'string']],
];

/**
 * The error to throw for a native InvalidConfig error about `options`.
 * @param {Error & {code?: string}} e
 * @param {Record<string, unknown>} options
 */
function configError(e, options) {
  if (!e || e.code !== 'InvalidConfig') return e;
  const message = `polytrace: ${e.message}`;
  let isType = /unknown configuration option|was given twice/.test(e.message);
  const m = /configuration option "([^"]+)"/.exec(e.message);
  if (!isType && m && options && Object.prototype.hasOwnProperty.call(options, m[1])) {
    const v = options[m[1]];
    const given = Array.isArray(v) ? 'list' : typeof v === 'object' ? 'map' : typeof v;
    for (const [re, ok] of WANTED) {
      if (re.test(e.message)) {
        isType = !ok.includes(given);
        break;
      }
    }
  }
  const out = isType ? new TypeError(message) : new RangeError(message);
  out.code = 'InvalidConfig';
  return out;
}

module.exports = { toNative, configError, normalize };
