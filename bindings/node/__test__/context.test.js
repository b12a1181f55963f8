'use strict';
// lib/context.js: the light Context that startActiveSpan and extract return behaves as the
// API's own contexts do (values, overrides, deletes, the active span, baggage), also past the
// depth at which a chain is folded, and mixed with the API's contexts.

const test = require('node:test');
const assert = require('node:assert/strict');
const api = require('@opentelemetry/api');
const { TracerProvider, AsyncLocalStorageContextManager } = require('..');
const { withSpan, LinkedContext, MAX_DEPTH } = require('../lib/context');

const { ROOT_CONTEXT, trace, propagation, createContextKey } = api;

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('withSpan is trace.setSpan: the span is found by the API, other values are inherited', () => {
  const k = createContextKey('k');
  const base = ROOT_CONTEXT.setValue(k, 'v');
  const span = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
  const ctx = withSpan(base, span);
  assert.ok(ctx instanceof LinkedContext);
  assert.equal(trace.getSpan(ctx), span);
  assert.equal(ctx.getValue(k), 'v');
  assert.equal(trace.getSpan(base), undefined, 'the parent is unchanged');
  // Replacing the span, deleting it, and a key that was never set.
  const other = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4737', spanId: '00f067aa0ba902b8', traceFlags: 0 });
  assert.equal(trace.getSpan(withSpan(ctx, other)), other);
  assert.equal(trace.getSpan(ctx), span);
  const deleted = trace.deleteSpan(ctx);
  assert.equal(trace.getSpan(deleted), undefined);
  assert.equal(deleted.getValue(k), 'v');
  assert.equal(trace.getSpan(deleted.setValue(createContextKey('x'), 1)), undefined);
  assert.equal(ctx.getValue(createContextKey('never')), undefined);
  assert.equal(ctx.deleteValue(k).getValue(k), undefined);
  assert.equal(ctx.deleteValue(k).setValue(k, 'again').getValue(k), 'again');
});

test('long chains are folded into the base context and keep every value', () => {
  const keys = [];
  let ctx = withSpan(ROOT_CONTEXT, trace.wrapSpanContext(api.INVALID_SPAN_CONTEXT));
  for (let i = 0; i < MAX_DEPTH * 5 + 3; i++) {
    const k = createContextKey(`k${i}`);
    keys.push(k);
    ctx = ctx.setValue(k, i);
    if (i % 7 === 3) ctx = ctx.deleteValue(keys[i - 1]);
    if (i % 11 === 5) ctx = ctx.setValue(keys[0], `zero-${i}`);
    assert.ok(!(ctx instanceof LinkedContext) || ctx._depth <= MAX_DEPTH, 'depth stays bounded');
  }
  for (let i = 1; i < keys.length; i++) {
    const deleted = i + 1 < keys.length && (i + 1) % 7 === 3;
    assert.equal(ctx.getValue(keys[i]), deleted ? undefined : i, `key ${i}`);
  }
  assert.equal(ctx.getValue(keys[0]), 'zero-82');
  assert.ok(trace.getSpan(ctx) !== undefined);
});

test('extract returns a context the API and the context manager use like any other', () => {
  const provider = new TracerProvider({ exporter: 'none' });
  const propagator = provider.propagator();
  const manager = new AsyncLocalStorageContextManager().enable();
  const base = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ user: { value: 'u1' } }));
  const flat = propagator.extract(base, { traceparent: TP });
  const full = propagator.extract(ROOT_CONTEXT, { traceparent: TP, tracestate: 'a=1', baggage: 'k=v' });
  for (const [ctx, baggage] of [
    [flat, 'u1'],
    [full, undefined],
  ]) {
    const sc = trace.getSpanContext(ctx);
    assert.equal(sc.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(sc.spanId, '00f067aa0ba902b7');
    assert.equal(sc.isRemote, true);
    assert.equal(propagation.getBaggage(ctx)?.getEntry('user')?.value, baggage);
    manager.with(ctx, () => {
      assert.equal(trace.getSpanContext(manager.active()).spanId, '00f067aa0ba902b7');
      const child = provider.getTracer('t').startSpan('child', {}, manager.active());
      assert.equal(child.spanContext().traceId, sc.traceId);
      child.end();
    });
  }
  assert.equal(trace.getSpanContext(full).traceState.get('a'), '1');
  assert.equal(propagation.getBaggage(full).getEntry('k').value, 'v');
  // Re-injecting the extracted context writes the same traceparent.
  const out = {};
  propagator.inject(flat, out);
  assert.equal(out.traceparent, TP);
  manager.disable();
  return provider.shutdown();
});

test('startActiveSpan nests through light contexts', () => {
  const provider = new TracerProvider({ exporter: 'none' });
  const manager = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(manager);
  try {
    const tracer = provider.getTracer('t');
    const ids = [];
    tracer.startActiveSpan('a', (a) => {
      tracer.startActiveSpan('b', (b) => {
        tracer.startActiveSpan('c', (c) => {
          ids.push(a.spanContext().spanId, b.spanContext().spanId, c.spanContext().spanId);
          assert.equal(trace.getSpan(api.context.active()), c);
          assert.equal(c._p0 === b._s0 && c._p1 === b._s1, true, 'c is a child of b');
          c.end();
        });
        assert.equal(trace.getSpan(api.context.active()), b);
        b.end();
      });
      assert.equal(trace.getSpan(api.context.active()), a);
      a.end();
    });
    assert.equal(new Set(ids).size, 3);
    assert.equal(trace.getSpan(api.context.active()), undefined);
  } finally {
    api.context.disable();
  }
  return provider.shutdown();
});
