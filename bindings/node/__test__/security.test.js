'use strict';
// Security (docs/security.md): TLS and mTLS export through the OTEL_EXPORTER_OTLP_* certificate
// variables against a receiver that requires client certificates (made by
// tests/security/pki.sh); a failed handshake is counted, never retried over plaintext; header
// values never appear in anything the process prints; redaction checked at the receiver.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { PKG, ROOT, tmpdir, startReceiver, runNode, closedPort } = require('./helpers');

const pki = tmpdir('polytrace-pki-');
execFileSync('bash', [path.join(ROOT, 'tests', 'security', 'pki.sh'), pki]);
const file = (n) => path.join(pki, n);

const EXPORT = `
const { TracerProvider } = require(${JSON.stringify(PKG)});
const p = new TracerProvider();
const t = p.getTracer('security');
for (let i = 0; i < 5; i++) t.startSpan('tls-' + i).end();
p.forceFlush(5000).catch(() => {}).then(() => p.shutdown()).catch(() => {}).then(() => {
  console.log('STATS ' + JSON.stringify(p.stats()));
});
`;

function statsOf(out) {
  const line = out.split('\n').find((l) => l.startsWith('STATS '));
  assert.ok(line, out);
  return JSON.parse(line.slice(6));
}

function tlsEnv(endpoint, protocol, { ca = 'ca.pem', client = true } = {}) {
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_CERTIFICATE: file(ca),
    OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    OTEL_BSP_EXPORT_TIMEOUT: '1500',
  };
  if (client) {
    env.OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE = file('client.pem');
    env.OTEL_EXPORTER_OTLP_CLIENT_KEY = file('client.key');
  }
  return env;
}

const tlsArgs = ['--tls-cert', file('server.pem'), '--tls-key', file('server.key'), '--tls-client-ca', file('ca.pem')];
const https = (r, protocol) => (protocol === 'grpc' ? r.grpc : r.http).replace('http://', 'https://');

for (const protocol of ['http/protobuf', 'grpc']) {
  test(`mTLS export (${protocol})`, async (t) => {
    const r = await startReceiver(tlsArgs);
    t.after(() => r.stop());
    const service = 'mtls-' + crypto.randomUUID();
    const out = runNode(['-e', EXPORT], { env: { ...tlsEnv(https(r, protocol), protocol), OTEL_SERVICE_NAME: service } });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(statsOf(out.stdout).spansExported, 5, out.stdout + out.stderr);
    const spans = (await r.waitForSpans(5)).filter((s) => s.resource['service.name'] === service);
    assert.equal(spans.length, 5);
  });

  for (const [what, opts] of [
    ['untrusted server', { ca: 'other-ca.pem' }],
    ['no client certificate', { client: false }],
  ]) {
    test(`a failed handshake is counted and never plaintext: ${what} (${protocol})`, async (t) => {
      const r = await startReceiver(tlsArgs);
      t.after(() => r.stop());
      const out = runNode(['-e', EXPORT], { env: tlsEnv(https(r, protocol), protocol, opts) });
      assert.equal(out.status, 0, out.stderr);
      const st = statsOf(out.stdout);
      assert.equal(st.spansExported, 0, JSON.stringify(st));
      assert.equal(st.droppedExportFailed, 5, JSON.stringify(st));
      assert.ok(st.exportFailures >= 1, JSON.stringify(st));
      assert.equal(st.spansEnded, st.spansExported + st.spansDropped);
      assert.equal(r.spans().length, 0);
    });
  }
}

const SECRETS = `
const api = require('@opentelemetry/api');
api.diag.setLogger(new api.DiagConsoleLogger(), api.DiagLogLevel.ALL);
const { TracerProvider } = require(${JSON.stringify(PKG)});
const silent = net.createServer(() => {}).listen(0, '127.0.0.1', async () => {
  const p = new TracerProvider();
  p.getTracer('t').startSpan('work').end();
  console.log(p, p.stats());
  await p.forceFlush(3000).catch((e) => console.log('error', e));
  const other = new TracerProvider({ endpoint: 'http://127.0.0.1:' + silent.address().port, timeout: 300, exportTimeout: 300 });
  other.getTracer('t').startSpan('x').end();
  await other.shutdown(100).catch((e) => console.log('error', e));
  try { new TracerProvider({ headers: { 'x-api-key': 'bad\\nvalue' } }); } catch (e) { console.log('error', e); }
  await p.shutdown().catch((e) => console.log('error', e));
  console.log(p.stats());
  silent.close();
});
`;

for (const protocol of ['http/protobuf', 'grpc']) {
  test(`header values never appear in output (${protocol})`, async () => {
    const secret = 'sk-' + crypto.randomUUID();
    const port = await closedPort();
    const out = runNode(['-e', SECRETS], {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_TIMEOUT: '500',
        OTEL_BSP_EXPORT_TIMEOUT: '800',
        OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${secret},authorization=Bearer%20${secret}B,bad name=${secret}C`,
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: `no-equals-${secret}D`,
      },
    });
    const printed = out.stdout + out.stderr;
    assert.equal(out.status, 0, printed);
    assert.match(printed, /export of \d+ spans failed/);
    assert.match(printed, /OTEL_EXPORTER_OTLP_HEADERS/);
    assert.ok(!printed.includes(secret), printed);
  });
}

const REDACT = `
const api = require('@opentelemetry/api');
const { TracerProvider } = require(${JSON.stringify(PKG)});
const p = new TracerProvider();
const t = p.getTracer('redact');
const other = t.startSpan('other'); other.end();
const s = t.startSpan('GET /users/jane@example.com', {
  links: [{ context: other.spanContext(), attributes: { ssn: '123-45-6789', plain: 'kept' } }],
});
s.setAttribute('q', 'card 4111 1111 1111 1111 please');
s.setAttribute('order', 'order 1234567812345678');
s.setAttribute('list', ['ok', 'bob@example.org', '078-05-1120']);
s.setAttribute('user.id', 'u-42');
s.setAttribute('user.n', 42);
s.addEvent('mailed ann@example.net', { to: 'ann@example.net' });
s.recordException(new Error('no account for jane@example.com'));
s.setStatus({ code: api.SpanStatusCode.ERROR, message: 'card 5500-0000-0000-0004 declined' });
s.end();
p.shutdown();
`;

for (const protocol of ['http/protobuf', 'grpc', 'http/json']) {
  test(`redaction at the receiver (${protocol})`, async (t) => {
    const r = await startReceiver();
    t.after(() => r.stop());
    const out = runNode(['-e', REDACT], {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: protocol === 'grpc' ? r.grpc : r.http,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        POLYTRACE_REDACT: 'email,card,ssn',
        POLYTRACE_REDACT_HASH_KEYS: 'user.id,user.n',
      },
    });
    assert.equal(out.status, 0, out.stderr);
    await r.waitForSpans(2);
    const raw = fs.readFileSync(r.file, 'utf8');
    for (const leaked of ['jane@example.com', 'bob@example.org', 'ann@example.net', '4111 1111', '123-45-6789', '078-05-1120', '5500-0000', 'u-42']) {
      assert.ok(!raw.includes(leaked), leaked);
    }
    const s = r.spans().find((x) => x.name === 'GET /users/[REDACTED:email]');
    assert.ok(s, JSON.stringify(r.spans().map((x) => x.name)));
    assert.equal(s.attrs.q, 'card [REDACTED:card] please');
    assert.equal(s.attrs.order, 'order 1234567812345678');
    assert.deepEqual(s.attrs.list, ['ok', '[REDACTED:email]', '[REDACTED:ssn]']);
    assert.match(s.attrs['user.id'], /^sha256:/);
    assert.match(s.attrs['user.n'], /^sha256:/);
    assert.equal(s.status.message, 'card [REDACTED:card] declined');
    const ev = Object.fromEntries(s.events.map((e) => [e.name, e]));
    assert.ok(ev['mailed [REDACTED:email]']);
    const exc = ev.exception.attributes.find((a) => a.key === 'exception.message');
    assert.equal(exc.value.stringValue, 'no account for [REDACTED:email]');
    const link = Object.fromEntries(s.links[0].attributes.map((a) => [a.key, a.value.stringValue]));
    assert.deepEqual(link, { ssn: '[REDACTED:ssn]', plain: 'kept' });
  });
}
