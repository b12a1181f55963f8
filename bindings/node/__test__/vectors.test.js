'use strict';
// The shared, language-neutral vectors: tests/vectors/propagation.json through the
// TextMapPropagator, tests/vectors/config.json through the core's resolver, spans.json and
// text.json through @opentelemetry/api.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const api = require('@opentelemetry/api');
const { TracerProvider } = require('..');
const native = require('../lib/native');
const { toNative } = require('../lib/options');
const { ROOT, attrs, fileProvider } = require('./helpers');

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

// tests/vectors/spans.json: what a user does with spans through @opentelemetry/api, and what the
// core exports (read back from the file exporter). The vectors' description gives the rules.
const KINDS = { internal: api.SpanKind.INTERNAL, server: api.SpanKind.SERVER, client: api.SpanKind.CLIENT, producer: api.SpanKind.PRODUCER, consumer: api.SpanKind.CONSUMER };
const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const CODES = { unset: api.SpanStatusCode.UNSET, ok: api.SpanStatusCode.OK, error: api.SpanStatusCode.ERROR };
const CODE_NAMES = ['unset', 'ok', 'error'];
const IGNORED_EVENT_ATTRIBUTES = ['exception.stacktrace', 'exception.escaped'];

function remoteContext(c) {
  const sc = { traceId: c.trace_id, spanId: c.span_id, traceFlags: c.flags, isRemote: true };
  if (c.tracestate) sc.traceState = api.createTraceState(c.tracestate);
  return sc;
}

function runSpans(c, provider) {
  const tracer = provider.getTracer('vectors');
  const prop = provider.propagator();
  const spans = {};
  for (const spec of c.spans) {
    let parentCtx = api.ROOT_CONTEXT;
    if (typeof spec.parent === 'string') parentCtx = api.trace.setSpan(api.ROOT_CONTEXT, spans[spec.parent]);
    else if (spec.parent) parentCtx = api.trace.setSpanContext(api.ROOT_CONTEXT, remoteContext(spec.parent));
    const options = { kind: KINDS[spec.kind || 'internal'] };
    if (spec.attributes) options.attributes = spec.attributes;
    if (spec.links) options.links = spec.links.map((l) => ({ context: remoteContext(l.context), attributes: l.attributes }));
    const span = tracer.startSpan(spec.name, options, parentCtx);
    spans[spec.name] = span;
    let ended = false;
    for (const op of spec.ops || []) {
      const carrier = {};
      switch (op[0]) {
        case 'set_attribute':
          span.setAttribute(op[1], op[2]);
          break;
        case 'add_event':
          span.addEvent(op[1], op[2]);
          break;
        case 'record_exception': {
          const e = new Error(op[2]);
          e.name = op[1];
          span.recordException(e);
          break;
        }
        case 'set_status':
          span.setStatus(op[2] === undefined ? { code: CODES[op[1]] } : { code: CODES[op[1]], message: op[2] });
          break;
        case 'update_name':
          span.updateName(op[1]);
          break;
        case 'end':
          span.end();
          ended = true;
          break;
        case 'check_recording':
          assert.equal(span.isRecording(), op[1], `${spec.name}: isRecording`);
          break;
        default:
          prop.inject(api.trace.setSpan(api.ROOT_CONTEXT, span), carrier);
          if (op[0] === 'check_flags') assert.equal(carrier.traceparent.slice(-2), op[1], `${spec.name}: flags`);
          else if (op[0] === 'check_traceparent') assert.equal(carrier.traceparent, op[1], `${spec.name}: traceparent`);
          else if (op[0] === 'check_tracestate') assert.equal(carrier.tracestate || '', op[1], `${spec.name}: tracestate`);
          else assert.fail(`unknown op ${op[0]}`);
      }
    }
    if (!ended && spec.end !== false) span.end();
  }
}

function withoutKeys(o, keys) {
  const out = { ...o };
  for (const k of keys) delete out[k];
  return out;
}

function compareSpans(c, exported) {
  assert.equal(exported.length, c.expect.length, `exported ${JSON.stringify(exported.map((s) => s.name))}`);
  const byId = new Map(exported.map((s) => [s.spanId, s.name]));
  for (const e of c.expect) {
    const s = exported.find((x) => x.name === e.name);
    assert.ok(s, `no span ${e.name}`);
    if (e.kind !== undefined) assert.equal(KIND_NAMES[s.kind ?? 1], e.kind, `${e.name}: kind`);
    if (e.parent !== undefined) {
      const parent = s.parentSpanId ? (byId.get(s.parentSpanId) ?? 'remote') : null;
      assert.equal(parent, e.parent, `${e.name}: parent`);
    }
    if (e.trace_id !== undefined) assert.equal(s.traceId, e.trace_id, `${e.name}: trace id`);
    if (e.attributes !== undefined) assert.deepEqual(s.attrs, e.attributes, `${e.name}: attributes`);
    assert.equal(s.droppedAttributesCount ?? 0, e.dropped_attributes ?? 0, `${e.name}: dropped attributes`);
    assert.equal(s.droppedEventsCount ?? 0, e.dropped_events ?? 0, `${e.name}: dropped events`);
    assert.equal(s.droppedLinksCount ?? 0, e.dropped_links ?? 0, `${e.name}: dropped links`);
    if (e.events !== undefined) {
      const got = (s.events || []).map((ev) => ({ name: ev.name, attributes: withoutKeys(attrs(ev.attributes), IGNORED_EVENT_ATTRIBUTES) }));
      assert.deepEqual(got, e.events, `${e.name}: events`);
    }
    if (e.links !== undefined) {
      const got = (s.links || []).map((l) => ({ trace_id: l.traceId, span_id: l.spanId, attributes: attrs(l.attributes) }));
      assert.deepEqual(got, e.links, `${e.name}: links`);
    }
    const st = s.status || {};
    assert.deepEqual({ code: CODE_NAMES[st.code ?? 0], message: st.message ?? '' }, e.status ?? { code: 'unset', message: '' }, `${e.name}: status`);
  }
}

test('span vectors: operations through @opentelemetry/api, spans as the core exports them', async (t) => {
  for (const c of vectors('spans.json').cases) {
    await t.test(c.name, async () => {
      const { provider, spans } = fileProvider(TracerProvider, c.config || {});
      runSpans(c, provider);
      await provider.shutdown();
      compareSpans(c, spans());
    });
  }
});

// tests/vectors/text.json: a string with lone surrogates, built from each case's UTF-16 code
// units, given as every kind of text the API takes, is exported as the case's `text` (the
// core's rule: kept, one U+FFFD per lone surrogate). Cases with only `utf8` bytes are for the
// byte-string bindings.
test('text vectors: lone surrogates in every text argument', async (t) => {
  const cases = vectors('text.json').cases.filter((c) => c.utf16);
  assert.ok(cases.length >= 7, `${cases.length} UTF-16 cases`);
  for (const c of cases) {
    await t.test(c.name, async () => {
      const given = String.fromCharCode(...c.utf16);
      const want = c.text;
      const { provider, spans } = fileProvider(TracerProvider);
      const tracer = provider.getTracer('text');
      const link = { context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 }, attributes: { link: given } };
      const s = tracer.startSpan(given, { attributes: { start: given }, links: [link] });
      s.setAttribute(given, given);
      s.setAttribute('array', ['ok', given]);
      s.setAttributes({ many: given });
      s.addEvent(given, { event: given });
      s.recordException(new Error(given));
      s.setStatus({ code: api.SpanStatusCode.ERROR, message: given });
      s.end();
      const u = tracer.startSpan('renamed');
      u.updateName(given);
      u.end();
      await provider.shutdown();
      const [first, second] = spans();
      assert.equal(first.name, want);
      assert.deepEqual(first.attrs, { start: want, [want]: want, array: ['ok', want], many: want });
      assert.deepEqual(attrs(first.links[0].attributes), { link: want });
      assert.equal(first.events[0].name, want);
      assert.deepEqual(attrs(first.events[0].attributes), { event: want });
      assert.equal(attrs(first.events[1].attributes)['exception.message'], want);
      assert.equal(first.status.message, want);
      assert.equal(second.name, want);
    });
  }
});
