'use strict';
// Existing instrumentation, unchanged, on top of polytrace: @opentelemetry/instrumentation-http
// and @opentelemetry/instrumentation-undici (Node's fetch) across real HTTP hops on loopback,
// exported over OTLP/HTTP to a real receiver (the workspace's `polytrace receive`).
//
//   test ──fetch──▶ frontend (http server) ──http.get──▶ backend /ok
//                                          ──fetch─────▶ backend /fail (500)

const test = require('node:test');
const assert = require('node:assert/strict');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
const api = require('@opentelemetry/api');
const { TracerProvider } = require('..');
const { startReceiver } = require('./helpers');

test('http + undici instrumentation across real hops, asserted at an OTLP receiver', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.stop());
  const provider = new TracerProvider({ endpoint: receiver.http, serviceName: 'node-instrumented', scheduleDelay: 100 }).register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation()],
  });
  // Required after the instrumentation is registered, as in an application.
  const http = require('node:http');

  const listen = (handler) =>
    new Promise((resolve) => {
      const server = http.createServer(handler);
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
  const backend = await listen((req, res) => {
    if (req.url === '/fail') {
      res.statusCode = 500;
      res.end('no');
    } else {
      res.end(`ok ${req.headers.traceparent ? 'traced' : 'untraced'}`);
    }
  });
  const bport = backend.address().port;
  const frontend = await listen(async (req, res) => {
    const viaHttp = await new Promise((resolve, reject) => {
      http
        .get(`http://127.0.0.1:${bport}/ok`, (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    const viaFetch = await fetch(`http://127.0.0.1:${bport}/fail`);
    await viaFetch.text();
    // An application span inside the request.
    api.trace.getTracer('app').startActiveSpan('render', (span) => {
      span.setAttribute('app.backend', viaHttp);
      span.end();
    });
    res.end(`${viaHttp} / ${viaFetch.status}`);
  });
  t.after(() => {
    backend.close();
    frontend.close();
  });

  const res = await fetch(`http://127.0.0.1:${frontend.address().port}/checkout?x=1`);
  assert.equal(await res.text(), 'ok traced / 500');
  await provider.forceFlush();

  // test fetch (client) → frontend server → http client → backend server, fetch client → backend server, render
  const spans = await receiver.waitForSpans(7);
  const kinds = { 2: 'server', 3: 'client', 1: 'internal' };
  const summary = spans.map((s) => `${kinds[s.kind]} ${s.name} ${s.scope.name}`).sort();
  assert.equal(spans.length, 7, summary.join('\n'));
  const traceIds = new Set(spans.map((s) => s.traceId));
  assert.equal(traceIds.size, 1, 'one trace across every hop');

  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const find = (pred, what) => {
    const s = spans.find(pred);
    assert.ok(s, `${what} in\n${summary.join('\n')}`);
    return s;
  };
  const rootClient = find((s) => s.kind === 3 && s.parentSpanId === undefined, 'the test fetch (root CLIENT)');
  assert.match(rootClient.scope.name, /undici/);
  const front = find((s) => s.kind === 2 && s.attrs['url.path'] === '/checkout', 'frontend SERVER');
  assert.equal(front.parentSpanId, rootClient.spanId);
  assert.equal(front.name, 'GET');
  assert.equal(front.attrs['http.request.method'] ?? front.attrs['http.method'], 'GET');
  assert.equal(front.attrs['http.response.status_code'] ?? front.attrs['http.status_code'], 200);
  assert.match(front.scope.name, /instrumentation-http/);
  assert.equal(front.flags & 0x300, 0x300, 'the frontend server span has a remote parent');

  const httpClient = find((s) => s.kind === 3 && s.scope.name.includes('instrumentation-http'), 'http.get CLIENT');
  assert.equal(httpClient.parentSpanId, front.spanId);
  const okServer = find((s) => s.kind === 2 && s.attrs['url.path'] === '/ok', 'backend /ok SERVER');
  assert.equal(okServer.parentSpanId, httpClient.spanId);
  assert.equal(okServer.status.code ?? 0, 0);

  const fetchClient = find((s) => s.kind === 3 && s.parentSpanId === front.spanId && s.scope.name.includes('undici'), 'fetch CLIENT');
  assert.equal(fetchClient.attrs['http.response.status_code'], 500);
  assert.equal(fetchClient.status.code, 2, 'a 500 is an error for the client');
  const failServer = find((s) => s.kind === 2 && s.attrs['url.path'] === '/fail', 'backend /fail SERVER');
  assert.equal(failServer.parentSpanId, fetchClient.spanId);
  assert.equal(failServer.status.code, 2, 'a 500 is an error for the server');

  const render = find((s) => s.name === 'render', 'the application span');
  assert.equal(render.parentSpanId, front.spanId);
  assert.equal(render.attrs['app.backend'], 'ok traced');
  assert.equal(render.resource['service.name'], 'node-instrumented');
  for (const s of spans) {
    if (s.parentSpanId) assert.ok(byId.has(s.parentSpanId), `${s.name}'s parent was exported`);
    assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
  }
  await provider.shutdown();
  const st = provider.stats();
  assert.equal(st.spansExported, 7);
  assert.equal(st.spansDropped, 0);
});
