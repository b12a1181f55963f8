'use strict';
// The error mapping (every core kind → Error.code, a Rust panic → 'Internal', never an abort),
// constructor option errors (TypeError / RangeError naming the option), and bad input to span
// methods (dropped, one diagnostic, never a throw).

const test = require('node:test');
const assert = require('node:assert/strict');
const api = require('@opentelemetry/api');
const { TracerProvider } = require('..');
const native = require('../lib/native');

const KINDS = ['InvalidArgument', 'InvalidConfig', 'Export', 'Timeout', 'AlreadyShutdown', 'Internal'];
const testing = native._testing;

test('each core error kind becomes an Error with that code', { skip: !testing && 'needs the testing build' }, () => {
  for (const kind of KINDS) {
    assert.throws(
      () => testing.error(kind),
      (e) => e instanceof Error && e.code === kind && e.message.includes(kind),
    );
  }
  assert.throws(() => testing.error('Nope'), (e) => e.code === 'InvalidArgument');
});

test('a Rust panic is an Error with code Internal, not an abort', { skip: !testing && 'needs the testing build' }, () => {
  assert.throws(() => testing.panicNow(), (e) => e instanceof Error && e.code === 'Internal' && /panic/.test(e.message));
  // The hand-written Node-API path maps panics the same way.
  assert.throws(() => native._testingPanicRaw(), (e) => e.code === 'Internal' && /panic/.test(e.message));
  // And the process is still fine.
  const p = new TracerProvider({ exporter: 'none' });
  p.getTracer('t').startSpan('after-panic').end();
  assert.equal(p.stats().spansEnded, 1);
});

test('constructor: unknown option is a TypeError naming it', () => {
  assert.throws(
    () => new TracerProvider({ maxQueueSise: 10 }),
    (e) =>
      e instanceof TypeError &&
      e.code === 'InvalidConfig' &&
      e.message.includes('maxQueueSise') &&
      e.option === 'maxQueueSise' &&
      e.problem === 'UnknownOption',
  );
});

test('constructor: a value of the wrong type is a TypeError naming the option', () => {
  const cases = [
    [{ maxQueueSize: true }, 'maxQueueSize'],
    [{ serviceName: 42 }, 'serviceName'],
    [{ propagators: 5 }, 'propagators'],
    [{ headers: ['a=b'] }, 'headers'],
    [{ serviceName: () => 'x' }, 'serviceName'],
    [{ headers: { a: 1 } }, 'headers'],
    [{ propagators: ['tracecontext', 1] }, 'propagators'],
  ];
  for (const [opts, name] of cases) {
    assert.throws(
      () => new TracerProvider(opts),
      (e) =>
        e instanceof TypeError &&
        e.code === 'InvalidConfig' &&
        e.message.includes(name) &&
        e.option === name &&
        e.problem === 'WrongType',
      JSON.stringify(opts),
    );
  }
  assert.throws(() => new TracerProvider('otlp'), TypeError);
});

test('constructor: a value out of range is a RangeError naming the option', () => {
  const cases = [
    [{ maxQueueSize: -1 }, 'maxQueueSize'],
    [{ max_queue_size: 0 }, 'max_queue_size'],
    [{ sampler: 'sometimes' }, 'sampler'],
    [{ exporter: 'zipkin' }, 'exporter'],
    [{ endpoint: 'not a url' }, 'endpoint'],
    [{ protocol: 'http/xml' }, 'protocol'],
    [{ serviceName: '' }, 'serviceName'],
    [{ propagators: ['b3'] }, 'propagators'],
    [{ scheduleDelay: 1.5 }, 'scheduleDelay'],
  ];
  for (const [opts, name] of cases) {
    assert.throws(
      () => new TracerProvider(opts),
      (e) =>
        e instanceof RangeError &&
        e.code === 'InvalidConfig' &&
        e.message.includes(name) &&
        e.option === name &&
        e.problem === 'BadValue',
      JSON.stringify(opts),
    );
  }
});

test('constructor: undefined and null options are ignored; camelCase and snake_case work', () => {
  const p = new TracerProvider({ exporter: 'none', serviceName: undefined, maxQueueSize: null, max_export_batch_size: 7 });
  const c = p.config();
  assert.equal(c.max_queue_size, '2048');
  assert.equal(c.max_export_batch_size, '7');
  assert.equal(c.sdk_language, 'nodejs');
  assert.throws(
    () => new TracerProvider({ exporter: 'none', serviceName: 'a', service_name: 'b' }),
    (e) => e instanceof TypeError && e.code === 'InvalidConfig' && e.option === 'service_name' && e.problem === 'DuplicateOption',
  );
  // The binding's own sdk_language yields to the user's, in any spelling.
  assert.equal(new TracerProvider({ exporter: 'none', sdkLanguage: 'TypeScript' }).config().sdk_language, 'typescript');
  assert.equal(new TracerProvider({ exporter: 'none', 'sdk-language': 'deno' }).config().sdk_language, 'deno');
});

test('constructor: a configuration error found after the options were checked is a RangeError without option', () => {
  // The exporter reads its TLS files when the provider is built.
  assert.throws(
    () => new TracerProvider({ exporter: 'otlp', certificate: '/nonexistent/polytrace-ca.pem' }),
    (e) =>
      e instanceof RangeError &&
      e.code === 'InvalidConfig' &&
      e.message.startsWith('polytrace: ') &&
      e.message.includes('/nonexistent/polytrace-ca.pem') &&
      e.option === undefined &&
      e.problem === undefined,
  );
});

test('span methods never throw on bad input and report it once through diag', () => {
  const messages = [];
  api.diag.setLogger(
    { error: (m) => messages.push(m), warn: (m) => messages.push(m), info() {}, debug() {}, verbose() {} },
    api.DiagLogLevel.WARN,
  );
  try {
    const p = new TracerProvider({ exporter: 'none' });
    const span = p.getTracer('t').startSpan('bad-input');
    const bad = [
      ['obj', { a: 1 }],
      ['mixed', [1, 'a']],
      ['nested', [[1]]],
      ['undef', undefined],
      ['fn', () => 1],
      ['sym', Symbol('s')],
      ['big', 10n],
      [NaN, 'nan key'],
      ['', 'empty key'],
      [undefined, 'x'],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [k, v] of bad) {
        assert.doesNotThrow(() => span.setAttribute(k, v));
        assert.doesNotThrow(() => span.setAttributes({ [k]: v }));
      }
      assert.doesNotThrow(() => span.setAttributes(null));
      assert.doesNotThrow(() => span.addEvent('e', { bad: {} }));
      assert.doesNotThrow(() => span.addEvent(undefined, 'not a time'));
      assert.doesNotThrow(() => span.addLink(undefined));
      assert.doesNotThrow(() => span.addLink({ context: null }));
      assert.doesNotThrow(() => span.addLinks('x'));
      assert.doesNotThrow(() => span.setStatus(undefined));
      assert.doesNotThrow(() => span.setStatus({ code: 7 }));
      assert.doesNotThrow(() => span.updateName(undefined));
      assert.doesNotThrow(() => span.recordException(undefined));
      assert.doesNotThrow(() => span.recordException({}));
    }
    // Valid values still record.
    span.setAttribute('ok', 1).setAttribute('nan', NaN).setAttribute('arr', [1, null, 2]);
    assert.doesNotThrow(() => span.end('yesterday'));
    assert.doesNotThrow(() => span.end());
    assert.doesNotThrow(() => span.setAttribute('after', 'end'));
    const keyMsgs = messages.filter((m) => m.includes('invalid attribute key'));
    const valueMsgs = messages.filter((m) => m.includes('invalid value for attribute'));
    assert.equal(keyMsgs.length, 1, messages.join('\n'));
    assert.equal(valueMsgs.length, 1, messages.join('\n'));
    assert.ok(messages.every((m) => m.startsWith('polytrace: ')));
    assert.equal(p.stats().spansEnded, 1);
  } finally {
    api.diag.disable();
  }
});

test('forceFlush rejects with code Timeout when the back end does not answer in time', async () => {
  const net = require('node:net');
  // A server that accepts connections and never answers.
  const sockets = [];
  const server = net.createServer((s) => sockets.push(s));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  try {
    const p = new TracerProvider({ endpoint: `http://127.0.0.1:${port}`, timeout: 5000, exportTimeout: 5000 });
    p.getTracer('t').startSpan('stuck').end();
    const t0 = Date.now();
    await assert.rejects(p.forceFlush(200), (e) => e.code === 'Timeout');
    assert.ok(Date.now() - t0 < 3000);
    // The event loop was free meanwhile (the flush ran on the thread pool).
    await assert.rejects(p.shutdown(200), (e) => e.code === 'Timeout');
    // shutdown again: the same promise, no new error kind.
    await assert.rejects(p.shutdown(200), (e) => e.code === 'Timeout');
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('forceFlush does not block the event loop', async () => {
  const net = require('node:net');
  const sockets = [];
  const server = net.createServer((s) => sockets.push(s));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const p = new TracerProvider({ endpoint: `http://127.0.0.1:${server.address().port}`, timeout: 5000 });
    p.getTracer('t').startSpan('x').end();
    let ticks = 0;
    const iv = setInterval(() => ticks++, 10);
    await p.forceFlush(600).catch(() => {});
    clearInterval(iv);
    assert.ok(ticks >= 20, `the event loop ran ${ticks} timer ticks during a 600 ms flush`);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('core diagnostics (a bad OTEL_* value) reach @opentelemetry/api diag', async () => {
  const messages = [];
  api.diag.setLogger(
    { error: (m) => messages.push(m), warn: (m) => messages.push(m), info() {}, debug() {}, verbose() {} },
    api.DiagLogLevel.WARN,
  );
  process.env.OTEL_BSP_MAX_QUEUE_SIZE = 'lots';
  try {
    const p = new TracerProvider({ exporter: 'none' });
    assert.equal(p.config().max_queue_size, '2048');
    for (let i = 0; i < 50 && !messages.some((m) => m.includes('OTEL_BSP_MAX_QUEUE_SIZE')); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(messages.some((m) => m.startsWith('polytrace: ') && m.includes('OTEL_BSP_MAX_QUEUE_SIZE') && m.includes('lots')), messages.join('\n'));
  } finally {
    delete process.env.OTEL_BSP_MAX_QUEUE_SIZE;
    api.diag.disable();
  }
});
