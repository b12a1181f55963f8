'use strict';
// The @opentelemetry/api surface: Tracer (startSpan, startActiveSpan and its overloads), Span
// (every method), context propagation across async boundaries, sampling plans, handle
// lifetime (double end, calls after shutdown), stats. Spans are read back from the core's
// file exporter (OTLP JSON lines).

const test = require('node:test');
const assert = require('node:assert/strict');
const { setTimeout: sleep } = require('node:timers/promises');
const { EventEmitter } = require('node:events');
const api = require('@opentelemetry/api');
const { TracerProvider, AsyncLocalStorageContextManager, W3CPropagator } = require('..');
const { fileProvider } = require('./helpers');

const { SpanKind, SpanStatusCode, ROOT_CONTEXT, context, trace } = api;

// One global context manager for the file (what register() installs).
const manager = new AsyncLocalStorageContextManager();
context.setGlobalContextManager(manager.enable());

const byName = (spans) => Object.fromEntries(spans.map((s) => [s.name, s]));

test('span data reaches the exporter intact', async () => {
  const { provider, spans } = fileProvider(TracerProvider);
  const tracer = provider.getTracer('scope-a', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' });
  const t0 = Date.now();
  const root = tracer.startSpan('root', {
    kind: SpanKind.SERVER,
    attributes: { 'http.method': 'GET', n: 3, f: 1.5, yes: true, list: ['a', 'b'], ints: [1, 2], floats: [1.5, 2], bools: [true, false] },
    startTime: t0 - 5,
  });
  root.setAttribute('n', 4); // later value wins
  root.setAttributes({ extra: 'x', 'unicode.ü': 'grüße ✓ 𝄞' });
  root.addEvent('plain');
  root.addEvent('with-attrs', { k: 'v' });
  root.addEvent('at-time', t0 - 1);
  root.addEvent('attrs-and-time', { k2: 2 }, new Date(t0 - 2));
  root.addEvent('hrtime', [Math.floor(t0 / 1000), (t0 % 1000) * 1e6]);
  root.recordException(new TypeError('bad thing'));
  root.recordException('a string exception');
  const coded = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
  root.recordException(coded);
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'it failed' });
  root.updateName('root-renamed');
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  const child = tracer.startSpan('child', { kind: SpanKind.CLIENT, links: [{ context: root.spanContext(), attributes: { why: 'x' } }] }, ctx);
  child.addLink({ context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true } });
  child.addLinks([{ context: root.spanContext() }]);
  child.setStatus({ code: SpanStatusCode.OK });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'ignored: OK is final' });
  assert.equal(child.isRecording(), true);
  child.end(t0 + 1);
  assert.equal(child.isRecording(), false);
  root.end();
  await provider.shutdown();

  const got = byName(spans());
  assert.deepEqual(Object.keys(got).sort(), ['child', 'root-renamed']);
  const r = got['root-renamed'];
  const c = got.child;
  assert.equal(r.kind, 2); // OTLP SERVER
  assert.equal(c.kind, 3); // OTLP CLIENT
  assert.equal(r.traceId, root.spanContext().traceId);
  assert.equal(r.spanId, root.spanContext().spanId);
  assert.equal(c.parentSpanId, r.spanId);
  assert.equal(c.traceId, r.traceId);
  assert.equal(r.parentSpanId, undefined);
  assert.deepEqual(r.attrs, {
    'http.method': 'GET', n: 4, f: 1.5, yes: true, list: ['a', 'b'], ints: [1, 2], floats: [1.5, 2], bools: [true, false],
    extra: 'x', 'unicode.ü': 'grüße ✓ 𝄞',
  });
  assert.deepEqual(r.status, { message: 'it failed', code: 2 });
  assert.deepEqual(c.status, { code: 1 });
  assert.equal(r.scope.name, 'scope-a');
  assert.equal(r.scope.version, '1.2.3');
  assert.equal(r.resource['service.name'], 'node-test');
  assert.equal(r.resource['telemetry.sdk.language'], 'nodejs');
  const ev = r.events.map((e) => e.name);
  assert.deepEqual(ev, ['plain', 'with-attrs', 'at-time', 'attrs-and-time', 'hrtime', 'exception', 'exception', 'exception']);
  const exc = r.events.filter((e) => e.name === 'exception').map((e) => Object.fromEntries(e.attributes.map((a) => [a.key, Object.values(a.value)[0]])));
  assert.equal(exc[0]['exception.type'], 'TypeError');
  assert.equal(exc[0]['exception.message'], 'bad thing');
  assert.match(exc[0]['exception.stacktrace'], /TypeError: bad thing/);
  assert.equal(exc[1]['exception.message'], 'a string exception');
  assert.equal(exc[2]['exception.type'], 'ECONNREFUSED');
  // Times: nanoseconds since the epoch, consistent with the inputs.
  const ns = (s) => Number(BigInt(s) / 1000000n);
  assert.ok(Math.abs(ns(r.startTimeUnixNano) - (t0 - 5)) <= 2, `${ns(r.startTimeUnixNano)} vs ${t0 - 5}`);
  assert.ok(Math.abs(ns(r.events[2].timeUnixNano) - (t0 - 1)) <= 2);
  assert.ok(Math.abs(ns(r.events[3].timeUnixNano) - (t0 - 2)) <= 2);
  assert.ok(Math.abs(ns(r.events[4].timeUnixNano) - t0) <= 2);
  assert.ok(Math.abs(ns(c.endTimeUnixNano) - (t0 + 1)) <= 2);
  assert.ok(BigInt(r.endTimeUnixNano) >= BigInt(r.startTimeUnixNano));
  assert.equal(c.links.length, 3);
  assert.equal(c.links[0].spanId, r.spanId);
  assert.equal(c.links[1].traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.deepEqual(c.links[0].attributes, [{ key: 'why', value: { stringValue: 'x' } }]);
});

test('startActiveSpan: every overload, context follows await and timers', async () => {
  const { provider, spans } = fileProvider(TracerProvider);
  const tracer = provider.getTracer('t');
  const r1 = tracer.startActiveSpan('two-args', (span) => {
    assert.equal(trace.getActiveSpan(), span);
    span.end();
    return 1;
  });
  const r2 = tracer.startActiveSpan('three-args', { kind: SpanKind.PRODUCER }, (span) => {
    span.end();
    return 2;
  });
  const parent = tracer.startSpan('explicit-parent');
  const r3 = tracer.startActiveSpan('four-args', { attributes: { a: 1 } }, trace.setSpan(ROOT_CONTEXT, parent), (span) => {
    span.end();
    return 3;
  });
  parent.end();
  assert.deepEqual([r1, r2, r3], [1, 2, 3]);
  assert.equal(tracer.startActiveSpan('no-fn'), undefined);

  await tracer.startActiveSpan('async-root', async (root) => {
    await sleep(5);
    assert.equal(trace.getActiveSpan(), root);
    await new Promise((res) =>
      setTimeout(() => {
        tracer.startActiveSpan('in-timer', (s) => s.end());
        res();
      }, 1),
    );
    const ee = new EventEmitter();
    context.bind(context.active(), ee);
    await context.with(ROOT_CONTEXT, async () => {
      await new Promise((res) => {
        ee.on('go', () => {
          tracer.startSpan('in-bound-listener').end();
          res();
        });
        ee.emit('go');
      });
    });
    tracer.startSpan('sibling-after-await').end();
    root.end();
  });
  assert.equal(trace.getActiveSpan(), undefined);
  await provider.forceFlush();
  const got = byName(spans());
  assert.equal(got['four-args'].parentSpanId, got['explicit-parent'].spanId);
  assert.equal(got['three-args'].kind, 4);
  assert.equal(got['two-args'].parentSpanId, undefined);
  for (const n of ['in-timer', 'in-bound-listener', 'sibling-after-await']) {
    assert.equal(got[n].parentSpanId, got['async-root'].spanId, n);
    assert.equal(got[n].traceId, got['async-root'].traceId, n);
  }
  await provider.shutdown();
});

test('a remote parent from the propagator is continued, with its trace state', async () => {
  const { provider, spans } = fileProvider(TracerProvider);
  const prop = provider.propagator();
  assert.ok(prop instanceof W3CPropagator);
  const ctx = prop.extract(ROOT_CONTEXT, {
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
  });
  const span = provider.getTracer('t').startSpan('server', { kind: SpanKind.SERVER }, ctx);
  const carrier = {};
  prop.inject(trace.setSpan(ctx, span), carrier);
  assert.match(carrier.traceparent, new RegExp(`^00-4bf92f3577b34da6a3ce929d0e0e4736-${span.spanContext().spanId}-01$`));
  assert.equal(carrier.tracestate, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  span.end();
  await provider.shutdown();
  const [s] = spans();
  assert.equal(s.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(s.parentSpanId, '00f067aa0ba902b7');
  assert.equal(s.traceState, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  // flags: sampled, remote parent (OTLP flag bits 8 and 9).
  assert.equal(s.flags & 0x300, 0x300);
});

test('a parent context with uppercase hex ids (valid for the API) is continued in lowercase', async () => {
  const { provider, spans } = fileProvider(TracerProvider);
  const ctx = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', spanId: '00F067AA0BA902B7', traceFlags: 1, isRemote: true,
  });
  const span = provider.getTracer('t').startSpan('upper', {}, ctx);
  assert.equal(span.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  const carrier = {};
  provider.propagator().inject(trace.setSpan(ROOT_CONTEXT, span), carrier, api.defaultTextMapSetter);
  assert.match(carrier.traceparent, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  span.end();
  // An asked sampler gets the parent through the core as well.
  const asked = fileProvider(TracerProvider, { sampler: 'traceidratio', samplerArg: 0.999999 });
  asked.provider.getTracer('t').startSpan('upper-asked', {}, ctx).end();
  await Promise.all([provider.shutdown(), asked.provider.shutdown()]);
  for (const s of [...spans(), ...asked.spans()]) {
    assert.equal(s.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', s.name);
    assert.equal(s.parentSpanId, '00f067aa0ba902b7', s.name);
  }
  assert.equal(spans().length + asked.spans().length, 2);
});

test('sampling: the plan for fixed samplers, the core for the rest', async () => {
  const off = fileProvider(TracerProvider, { sampler: 'always_off' });
  const s1 = off.provider.getTracer('t').startSpan('dropped');
  assert.equal(s1.isRecording(), false);
  assert.equal(s1.spanContext().traceFlags & 1, 0);
  assert.ok(api.isSpanContextValid(s1.spanContext()));
  s1.end();
  assert.equal(off.provider.stats().spansStarted, 0);

  // parentbased_always_on: an unsampled remote parent is followed.
  const pb = fileProvider(TracerProvider);
  const unsampled = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0, isRemote: true,
  });
  const s2 = pb.provider.getTracer('t').startSpan('child-of-unsampled', {}, unsampled);
  assert.equal(s2.isRecording(), false);
  assert.equal(s2.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.notEqual(s2.spanContext().spanId, '00f067aa0ba902b7');
  s2.end();

  // traceidratio 0.5 asks the core: about half of many roots are sampled, and the decision
  // is the core's (a pure function of the trace id).
  const ratio = fileProvider(TracerProvider, { sampler: 'traceidratio', samplerArg: 0.5, exporter: 'none' });
  const t = ratio.provider.getTracer('t');
  let sampled = 0;
  for (let i = 0; i < 2000; i++) {
    const s = t.startSpan('r');
    if (s.isRecording()) sampled++;
    s.end();
  }
  assert.ok(sampled > 850 && sampled < 1150, `${sampled} of 2000 sampled at ratio 0.5`);
  assert.equal(ratio.provider.stats().spansStarted, sampled);

  // ratelimiting: at most the budget of new traces.
  const rl = fileProvider(TracerProvider, { sampler: 'parentbased_ratelimiting', samplerArg: 5, exporter: 'none' });
  let n = 0;
  for (let i = 0; i < 100; i++) {
    const s = rl.provider.getTracer('t').startSpan('r');
    if (s.isRecording()) n++;
    s.end();
  }
  assert.ok(n >= 5 && n <= 6, `${n} of 100 within a burst of 5`);
  await Promise.all([off.provider.shutdown(), pb.provider.shutdown(), ratio.provider.shutdown(), rl.provider.shutdown()]);
});

test('OTEL_SDK_DISABLED-style disabled provider: non-recording spans that still propagate', async () => {
  const p = new TracerProvider({ disabled: true });
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true,
  });
  const s = p.getTracer('t').startSpan('x', {}, parent);
  assert.equal(s.isRecording(), false);
  assert.equal(s.spanContext().spanId, '00f067aa0ba902b7');
  s.end();
  await p.shutdown();
});

test('handles: double end is harmless, calls after shutdown are no-ops, stats count', async () => {
  const { provider, spans } = fileProvider(TracerProvider);
  const t = provider.getTracer('t');
  assert.equal(provider.getTracer('t'), t); // cached
  const s = t.startSpan('once');
  s.end();
  s.end();
  s.setAttribute('late', 1);
  const before = provider.stats();
  assert.equal(before.spansStarted, 1);
  assert.equal(before.spansEnded, 1);
  const live = t.startSpan('ended-after-shutdown');
  await provider.shutdown();
  await provider.shutdown(); // second call: same promise, resolves
  const after = t.startSpan('after');
  assert.equal(after.isRecording(), false);
  after.end();
  live.end();
  const st = provider.stats();
  assert.equal(st.spansExported, 1);
  assert.equal(st.droppedShutdown, 1);
  assert.equal(spans().length, 1);
});

test('many attributes and events stay within the limits, with exact dropped counts', async () => {
  const { provider, spans } = fileProvider(TracerProvider, { attributeCountLimit: 4, eventCountLimit: 2 });
  const s = provider.getTracer('t').startSpan('limits');
  // Far more calls than the live span keeps before folding repeated keys (caps.compactAt).
  for (let i = 0; i < 10000; i++) s.setAttribute(`k${i % 7}`, i);
  for (let i = 0; i < 10; i++) s.addEvent(`e${i}`);
  s.end();
  await provider.shutdown();
  const [got] = spans();
  // The first four keys keep their last values; every call for a fifth key is counted.
  assert.deepEqual(got.attrs, { k0: 9996, k1: 9997, k2: 9998, k3: 9999 });
  assert.equal(got.droppedAttributesCount, 1428 * 3);
  assert.deepEqual(got.events.map((e) => e.name), ['e0', 'e1']);
  assert.equal(got.droppedEventsCount, 8);
});

test('big batches and long strings', async () => {
  const { provider, spans } = fileProvider(TracerProvider, { maxQueueSize: 20000, maxExportBatchSize: 512 });
  const t = provider.getTracer('t');
  const long = 'x'.repeat(200000) + 'é';
  for (let i = 0; i < 5000; i++) {
    const s = t.startSpan(`span-${i % 50}`);
    s.setAttribute('i', i);
    s.setAttribute('uniq', `value-${i}`);
    if (i === 1234) s.setAttribute('long', long);
    s.end();
  }
  await provider.shutdown();
  const got = spans();
  assert.equal(got.length, 5000);
  const special = got.find((s) => s.attrs.i === 1234);
  assert.equal(special.attrs.long, long);
  assert.equal(special.attrs.uniq, 'value-1234');
  assert.equal(special.name, 'span-34');
});

test('span ids: hex read before or after end, by children, across id blocks, match what is exported', async () => {
  const { provider, spans } = fileProvider(TracerProvider, { maxQueueSize: 20000 });
  const t = provider.getTracer('t');
  const seen = new Map();
  // More spans than one block of pre-made ids (lib/ids.js), so ids come from several blocks;
  // some spans' hex is read while live, some after end, some never (children only copy it).
  for (let i = 0; i < 3000; i++) {
    const root = t.startSpan(`r${i}`);
    if (i % 3 === 0) seen.set(`r${i}`, root.spanContext());
    const child = t.startSpan(`c${i}`, {}, trace.setSpan(ROOT_CONTEXT, root));
    child.end();
    root.end();
    if (i % 3 === 1) seen.set(`r${i}`, root.spanContext());
    if (i % 5 === 0) seen.set(`c${i}`, child.spanContext());
  }
  await provider.shutdown();
  const got = byName(spans());
  for (const [name, sc] of seen) {
    assert.match(sc.traceId, /^[0-9a-f]{32}$/);
    assert.match(sc.spanId, /^[0-9a-f]{16}$/);
    assert.equal(got[name].traceId, sc.traceId, name);
    assert.equal(got[name].spanId, sc.spanId, name);
  }
  for (let i = 0; i < 3000; i++) {
    const r = got[`r${i}`];
    const c = got[`c${i}`];
    assert.equal(c.traceId, r.traceId);
    assert.equal(c.parentSpanId, r.spanId);
  }
  assert.equal(new Set(Object.values(got).map((s) => s.spanId)).size, 6000);
});

test('numbered strings: names and keys that share a cache slot keep their own numbers', async () => {
  const { provider, spans } = fileProvider(TracerProvider);
  const t = provider.getTracer('t');
  // Same length and same middle character: the same slot of lib/batch.js's string cache.
  const names = ['aXb', 'cXd', 'eXf', 'aXb', 'gXh', 'cXd'];
  const keys = ['k1Xz', 'k2Xz', 'k3Xz', 'k1Xz'];
  const built = (s) => s.split('').join(''); // equal content, another string object
  for (let i = 0; i < 300; i++) {
    const s = t.startSpan(i % 2 ? names[i % names.length] : built(names[i % names.length]));
    for (let k = 0; k < keys.length; k++) s.setAttribute(i % 3 ? keys[(i + k) % keys.length] : built(keys[(i + k) % keys.length]), `${keys[(i + k) % keys.length]}=${k}`);
    s.setAttribute('i', i);
    s.end();
  }
  await provider.shutdown();
  const got = spans();
  assert.equal(got.length, 300);
  for (const s of got) {
    const i = s.attrs.i;
    assert.equal(s.name, names[i % names.length]);
    // Later duplicates win: the last k that wrote each key.
    const want = {};
    for (let k = 0; k < keys.length; k++) want[keys[(i + k) % keys.length]] = `${keys[(i + k) % keys.length]}=${k}`;
    for (const [key, value] of Object.entries(want)) assert.equal(s.attrs[key], value, `span ${i} ${key}`);
  }
});
