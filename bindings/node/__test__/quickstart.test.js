'use strict';
// The quickstart (examples/node): the HTTP service with the http instrumentation, run once
// against a real OTLP receiver; its trace must arrive whole.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { PKG, ROOT, startReceiver, runNode, tmpdir } = require('./helpers');

test('examples/node: one checkout arrives as a whole trace', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.stop());
  const example = path.join(ROOT, 'examples', 'node');
  // Resolve `polytrace` to this package and the instrumentation to its dev dependencies,
  // without installing the example's own node_modules.
  const modules = tmpdir();
  fs.symlinkSync(PKG, path.join(modules, 'polytrace'), 'dir');
  const r = runNode(['--require', './tracing.js', 'server.js', '--once'], {
    cwd: example,
    env: {
      NODE_PATH: [modules, path.join(PKG, 'node_modules')].join(path.delimiter),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.http,
      OTEL_SERVICE_NAME: 'quickstart-test',
    },
  });
  assert.equal(r.status, 0, r.stderr);
  const m = /trace_id=([0-9a-f]{32})/.exec(r.stdout);
  assert.ok(m, r.stdout);
  // The --once call itself (client), server /checkout, checkout, 3 × (client + server /price).
  const spans = (await receiver.waitForSpans(9)).filter((s) => s.traceId === m[1]);
  assert.equal(spans.length, 9, spans.map((s) => `${s.kind} ${s.name} ${s.attrs['url.path']}`).join('\n'));
  const checkout = spans.find((s) => s.name === 'checkout');
  assert.equal(checkout.attrs['app.items'], 3);
  assert.equal(checkout.attrs['app.total_cents'], 525);
  assert.equal(checkout.resource['service.name'], 'quickstart-test');
  const server = spans.find((s) => s.kind === 2 && s.attrs['url.path'] === '/checkout');
  assert.equal(checkout.parentSpanId, server.spanId);
  const root = spans.find((s) => s.parentSpanId === undefined);
  assert.equal(root.kind, 3);
  assert.equal(server.parentSpanId, root.spanId);
  const clients = spans.filter((s) => s.kind === 3 && s !== root);
  assert.equal(clients.length, 3);
  for (const c of clients) assert.equal(c.parentSpanId, checkout.spanId);
  const prices = spans.filter((s) => s.kind === 2 && s.attrs['url.path'] === '/price');
  assert.deepEqual(prices.map((s) => s.parentSpanId).sort(), clients.map((c) => c.spanId).sort());
});
