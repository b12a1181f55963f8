'use strict';
// Process exit: the pipeline never keeps the event loop alive, and spans ended before a normal
// exit (or process.exit()) are exported by the exit hook, bounded by the export timeout even
// when the back end is down or hangs.

const test = require('node:test');
const assert = require('node:assert/strict');
const { PKG, startReceiver, runNode, closedPort, silentBackend } = require('./helpers');

const script = (body) => `
const api = require('@opentelemetry/api');
const { TracerProvider } = require(${JSON.stringify(PKG)});
${body}
`;

test('a natural exit flushes ended spans and is not delayed by the pipeline', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.stop());
  const r = runNode(
    [
      '-e',
      script(`
        // The default schedule delay is 5 s: without the exit hook nothing would be sent.
        const p = new TracerProvider({ endpoint: '${receiver.http}', serviceName: 'exit-natural' });
        const tr = p.getTracer('t');
        for (let i = 0; i < 10; i++) tr.startSpan('natural-' + i).end();
        setTimeout(() => tr.startSpan('from-a-timer').end(), 20);
      `),
    ],
    { cwd: PKG },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.ms < 4000, `exited after ${r.ms} ms`);
  const spans = await receiver.waitForSpans(11, 5000);
  assert.equal(spans.length, 11);
  assert.ok(spans.some((s) => s.name === 'from-a-timer'));
});

test('process.exit() flushes too', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.stop());
  const r = runNode([
    '-e',
    script(`
      const p = new TracerProvider({ endpoint: '${receiver.http}', serviceName: 'exit-explicit' });
      p.getTracer('t').startSpan('before-exit').end();
      process.exit(3);
    `),
  ]);
  assert.equal(r.status, 3, r.stderr);
  const spans = await receiver.waitForSpans(1, 5000);
  assert.deepEqual(spans.map((s) => s.name), ['before-exit']);
});

test('a down back end delays exit by at most the export timeout', async () => {
  const port = await closedPort();
  const r = runNode([
    '-e',
    script(`
      const p = new TracerProvider({ endpoint: 'http://127.0.0.1:${port}', exportTimeout: 1500, timeout: 1000 });
      for (let i = 0; i < 100; i++) p.getTracer('t').startSpan('lost').end();
    `),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.ms < 1500 + 2500, `exited after ${r.ms} ms`);
});

test('a hanging back end delays exit by at most the export timeout', async (t) => {
  const port = await silentBackend(t);
  const r = runNode([
    '-e',
    script(`
      const p = new TracerProvider({ endpoint: 'http://127.0.0.1:${port}', exportTimeout: 1000, timeout: 30000 });
      p.getTracer('t').startSpan('stuck').end();
    `),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.ms >= 900, `waited ${r.ms} ms for the back end`);
  assert.ok(r.ms < 1000 + 2500, `exited after ${r.ms} ms`);
});

test('an idle provider does not keep the process alive', () => {
  const r = runNode([
    '-e',
    script(`
      const p = new TracerProvider({ exporter: 'none' }).register();
      api.trace.getTracer('t').startActiveSpan('x', (s) => s.end());
    `),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.ms < 3000, `exited after ${r.ms} ms`);
});
