'use strict';
// The API's `TraceState` interface over the entries the core accepted. The API's own
// implementation re-validates with stricter JavaScript rules (it drops keys starting with a
// digit, which W3C allows), so extracted state is kept exactly as the core parsed it. Entries
// added with set() are validated by the core when injected: an invalid one discards the
// header there, as the specification says.

class TraceState {
  /** @param {[string, string][]} entries most recent first */
  constructor(entries) {
    this._entries = entries;
  }

  /** @param {string} header a `tracestate` value the core already validated */
  static parse(header) {
    const entries = [];
    for (const member of header.split(',')) {
      const i = member.indexOf('=');
      if (i > 0) entries.push([member.slice(0, i), member.slice(i + 1)]);
    }
    return new TraceState(entries);
  }

  set(key, value) {
    return new TraceState([[key, value], ...this._entries.filter(([k]) => k !== key)]);
  }

  unset(key) {
    return new TraceState(this._entries.filter(([k]) => k !== key));
  }

  get(key) {
    const e = this._entries.find(([k]) => k === key);
    return e ? e[1] : undefined;
  }

  serialize() {
    return this._entries.map(([k, v]) => `${k}=${v}`).join(',');
  }
}

module.exports = { TraceState };
