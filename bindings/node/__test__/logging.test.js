'use strict';
// Log correlation with the official @opentelemetry/instrumentation-pino, unchanged, on top of
// polytrace: the trace_id / span_id / trace_flags it adds to pino's log lines are those of the
// spans that arrive at a real OTLP receiver (the workspace's `polytrace receive`).

const test = require('node:test');
const assert = require('node:assert/strict');
const { setTimeout: sleep } = require('node:timers/promises');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { PinoInstrumentation } = require('@opentelemetry/instrumentation-pino');
const api = require('@opentelemetry/api');
const { TracerProvider } = require('..');
const { startReceiver } = require('./helpers');

const UNSAMPLED_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

test('pino instrumentation writes the exported span ids into log lines', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.stop());
  const serviceName = `node-logs-${process.pid}`;

  // The README's setup: the provider, then the instrumentation, then pino is required.
  const provider = new TracerProvider({ endpoint: receiver.http, serviceName, scheduleDelay: 100 }).register();
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new PinoInstrumentation()] });
  const pino = require('pino');

  const lines = [];
  const logger = pino({ base: undefined }, { write: (line) => lines.push(JSON.parse(line)) });
  const tracer = api.trace.getTracer('checkout');

  logger.info('before any span');
  await tracer.startActiveSpan('checkout', async (root) => {
    logger.info('checkout started');
    await sleep(5); // the context survives an await (AsyncLocalStorage)
    logger.info('after an await');
    tracer.startActiveSpan('charge', (charge) => {
      logger.warn('charging');
      charge.end();
    });
    // A callback scheduled inside the span still runs in its context.
    await new Promise((resolve) =>
      setImmediate(() => {
        logger.info('from setImmediate');
        resolve();
      }),
    );
    root.end();
  });
  // A remote parent that was not sampled: the parent-based default sampler drops the child.
  const remote = api.propagation.extract(api.context.active(), { traceparent: UNSAMPLED_PARENT });
  api.context.with(remote, () =>
    tracer.startActiveSpan('not-sampled', (span) => {
      logger.info('unsampled work');
      span.end();
    }),
  );
  await provider.forceFlush();

  const spans = (await receiver.waitForSpans(2)).filter((s) => s.resource['service.name'] === serviceName);
  const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(byName).sort(), ['charge', 'checkout']);
  const { checkout, charge } = byName;
  assert.equal(charge.parentSpanId, checkout.spanId);

  const byMsg = Object.fromEntries(lines.map((l) => [l.msg, l]));
  assert.deepEqual(Object.keys(byMsg).sort(), [
    'after an await',
    'before any span',
    'charging',
    'checkout started',
    'from setImmediate',
    'unsampled work',
  ]);
  const ids = (msg) => {
    const { trace_id, span_id, trace_flags } = byMsg[msg];
    return { trace_id, span_id, sampled: trace_flags === undefined ? undefined : (parseInt(trace_flags, 16) & 1) === 1 };
  };
  const of = (span) => ({ trace_id: span.traceId, span_id: span.spanId, sampled: true });
  assert.deepEqual(ids('checkout started'), of(checkout));
  assert.deepEqual(ids('after an await'), of(checkout));
  assert.deepEqual(ids('from setImmediate'), of(checkout));
  assert.deepEqual(ids('charging'), of(charge));
  assert.match(byMsg['checkout started'].trace_flags, /^0[0-9a-f]$/);
  assert.equal(byMsg.charging.level, 40);
  // Outside any span pino writes no ids at all.
  assert.deepEqual(ids('before any span'), { trace_id: undefined, span_id: undefined, sampled: undefined });
  // Unsampled: the remote parent's trace id, a span id of its own, the sampled bit clear.
  const unsampled = ids('unsampled work');
  assert.equal(unsampled.trace_id, UNSAMPLED_PARENT.split('-')[1]);
  assert.match(unsampled.span_id, /^[0-9a-f]{16}$/);
  assert.notEqual(unsampled.span_id, UNSAMPLED_PARENT.split('-')[2]);
  assert.equal(unsampled.sampled, false);
  assert.equal(provider.stats().spansDropped, 0);
  await provider.shutdown();
});
