'use strict';
// The shared, language-neutral vectors: tests/vectors/propagation.json through the
// TextMapPropagator, tests/vectors/config.json through the core's resolver.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const api = require('@opentelemetry/api');
const { TracerProvider } = require('..');
const native = require('../lib/native');
const { toNative } = require('../lib/options');
const { ROOT } = require('./helpers');

const vectors = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'vectors', name), 'utf8'));

/** A carrier of [name, value] pairs: names case-insensitive, repeats as arrays. */
const pairGetter = {
  keys: (c) => c.map(([k]) => k),
  get: (c, key) => {
    const vs = c.filter(([k]) => k.toLowerCase() === key.toLowerCase()).map(([, v]) => v);
    if (vs.length === 0) return undefined;
    return vs.length === 1 ? vs[0] : vs;
  },
};
const pairSetter = { set: (c, k, v) => c.push([k, v]) };

const provider = new TracerProvider({ exporter: 'none', propagators: 'tracecontext,baggage' });
const propagator = provider.propagator();

function baggageList(ctx) {
  const b = api.propagation.getBaggage(ctx);
  if (!b) return [];
  return b.getAllEntries().map(([k, e]) => [k, e.value, e.metadata ? e.metadata.toString() : '']);
}

function contextFrom(c, baggage) {
  let ctx = api.ROOT_CONTEXT;
  if (c) {
    const sc = { traceId: c.trace_id, spanId: c.span_id, traceFlags: c.flags, isRemote: false };
    if (c.tracestate) sc.traceState = api.createTraceState(c.tracestate);
    ctx = api.trace.setSpanContext(ctx, sc);
  }
  if (baggage.length) {
    const entries = {};
    for (const [k, v, m] of baggage) entries[k] = m ? { value: v, metadata: api.baggageEntryMetadataFromString(m) } : { value: v };
    ctx = api.propagation.setBaggage(ctx, api.propagation.createBaggage(entries));
  }
  return ctx;
}

const prop = vectors('propagation.json');

test('propagation vectors: extract', async (t) => {
  for (const c of prop.extract) {
    await t.test(c.name, () => {
      const ctx = propagator.extract(api.ROOT_CONTEXT, c.carrier, pairGetter);
      const sc = api.trace.getSpanContext(ctx);
      const e = c.expect;
      assert.equal(sc !== undefined && api.isSpanContextValid(sc), e.valid);
      if (e.valid) {
        assert.equal(sc.traceId, e.trace_id);
        assert.equal(sc.spanId, e.span_id);
        assert.equal(sc.traceFlags, e.flags);
        assert.equal((sc.traceFlags & 1) === 1, e.sampled);
        assert.equal(sc.isRemote, true);
        assert.equal(sc.traceState ? sc.traceState.serialize() : '', e.tracestate);
      }
      assert.deepEqual(baggageList(ctx), e.baggage);
    });
  }
});

test('propagation vectors: inject', async (t) => {
  for (const c of prop.inject) {
    await t.test(c.name, () => {
      const carrier = [];
      propagator.inject(contextFrom(c.context, c.baggage), carrier, pairSetter);
      assert.deepEqual(carrier, c.expect);
    });
  }
});

test('propagation vectors: round trip', async (t) => {
  for (const c of prop.round_trip) {
    await t.test(c.name, () => {
      const ctx = propagator.extract(api.ROOT_CONTEXT, c.carrier, pairGetter);
      const carrier = [];
      propagator.inject(ctx, carrier, pairSetter);
      assert.deepEqual(carrier, c.expect);
    });
  }
});

test('propagator fields follow OTEL_PROPAGATORS', () => {
  assert.deepEqual(propagator.fields(), ['traceparent', 'tracestate', 'baggage']);
  const only = new TracerProvider({ exporter: 'none', propagators: ['baggage'] }).propagator();
  assert.deepEqual(only.fields(), ['baggage']);
  const none = new TracerProvider({ exporter: 'none', propagators: 'none' }).propagator();
  const ctx = none.extract(api.ROOT_CONTEXT, [['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']], pairGetter);
  assert.equal(api.trace.getSpanContext(ctx), undefined);
});

const cfg = vectors('config.json');

test('config vectors', { skip: !native._testing && 'needs the testing build' }, async (t) => {
  for (const c of cfg.cases) {
    await t.test(c.name, () => {
      const env = Object.entries(c.env || {});
      const opts = toNative(c.options || {});
      if (c.error) {
        assert.throws(
          () => native._testing.resolveConfig(env, opts),
          (e) => {
            assert.equal(e.code, c.error);
            if (c.error_mentions) assert.ok(e.message.includes(c.error_mentions), `${e.message} should mention ${c.error_mentions}`);
            if (c.problem) {
              assert.equal(e.problem, c.problem);
              assert.ok(e instanceof (c.problem === 'BadValue' ? RangeError : TypeError), `${e.constructor.name} for ${c.problem}`);
            }
            if (c.option) assert.equal(e.option, c.option);
            return true;
          },
        );
        return;
      }
      const r = native._testing.resolveConfig(env, opts);
      const eff = Object.fromEntries(r.effective);
      for (const [k, v] of Object.entries(c.expect || {})) {
        if (v.endsWith('*')) assert.ok(eff[k].startsWith(v.slice(0, -1)), `${k}: ${eff[k]} should start with ${v}`);
        else assert.equal(eff[k], v, k);
      }
      assert.deepEqual([...new Set(r.warnings)].sort(), [...(c.warnings || [])].sort());
    });
  }
});

test('the traceparent of a polytrace span is the core writer\'s, for every flag combination', () => {
  const p = new TracerProvider({ exporter: 'none' });
  const t = p.getTracer('t');
  const parents = [0, 1, 2, 3].map((flags) =>
    api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: flags, isRemote: true }),
  );
  for (let i = 0; i < 2000; i++) {
    const span = t.startSpan('s', {}, i % 5 === 4 ? api.ROOT_CONTEXT : parents[i % 4]);
    const sc = span.spanContext();
    const carrier = {};
    p.propagator().inject(api.trace.setSpan(api.ROOT_CONTEXT, span), carrier);
    assert.equal(carrier.traceparent, native.formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags));
    assert.equal(carrier.traceparent, native.formatTraceparentWords(span._t0, span._t1, span._t2, span._t3, span._s0, span._s1, span._flags));
    const again = {};
    p.propagator().inject(api.trace.setSpan(api.ROOT_CONTEXT, span), again);
    assert.equal(again.traceparent, carrier.traceparent, 'a second inject of the same span writes the same header');
    span.end();
  }
});
