'use strict';
// Provider options, flattened for the native constructor. Nothing is decided here: the core
// checks every name and value and the native side throws what it finds — a TypeError (unknown
// option, the same option twice, a type the option never takes) or a RangeError (a value of the
// right type the option cannot use), with code 'InvalidConfig', `option` and `problem`
// (src/error.rs). A JavaScript value no option can take (a function, a list with a number in
// it) is passed along as such, so the core reports it the same way.

/**
 * Flattens `options` for the native constructor (src/convert.rs `OptionArg`).
 * @param {unknown} options
 * @returns {{name: string, tag: string, s?: string, n?: number, b?: boolean, list?: string[], map?: string[][]}[]}
 */
function toNative(options) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    const e = new TypeError(`polytrace: TracerProvider options must be an object, got ${describe(options)}`);
    // @ts-ignore
    e.code = 'InvalidConfig';
    throw e;
  }
  const out = [];
  for (const name of Object.keys(options)) {
    const v = options[name];
    if (v === undefined || v === null) continue;
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
          if (v.every((e) => typeof e === 'string')) out.push({ name, tag: 'l', list: v.slice() });
          else out.push({ name, tag: 'x', s: 'a list with an entry that is not a string' });
        } else {
          const entries = Object.entries(v);
          if (entries.every(([, e]) => typeof e === 'string')) out.push({ name, tag: 'm', map: entries });
          else out.push({ name, tag: 'x', s: 'a map with a value that is not a string' });
        }
        break;
      default:
        out.push({ name, tag: 'x', s: `a ${describe(v)}` });
    }
  }
  return out;
}

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

module.exports = { toNative };
