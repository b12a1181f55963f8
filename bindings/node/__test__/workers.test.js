'use strict';
// worker_threads: the addon is context-aware (napi-rs registers it per environment), so each
// Worker loads it and makes its own TracerProvider (its own core pipeline). Spans from the main
// thread and two Workers reach a real OTLP receiver; Workers end naturally (the exit hook
// flushes a provider that was not shut down) or are terminated in the middle of producing
// spans (also with a back end that is down), and neither crashes, hangs, keeps a Worker alive
// nor leaves the pipeline's threads behind. The scenario runs in a child process, so a crash
// is a failed test, not a dead runner.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { PKG, startReceiver } = require('./helpers');

const API = require.resolve('@opentelemetry/api');

/**
 * Runs `node args` without blocking this process's event loop (the receiver's output must
 * keep being read meanwhile); kills it after `timeout` ms.
 */
function nodeAsync(args, { cwd, timeout }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.once('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

const workerCode = `
const { parentPort, workerData: d } = require('node:worker_threads');
const api = require(d.api);
const { TracerProvider } = require(d.pkg);
const p = new TracerProvider({ endpoint: d.endpoint, serviceName: 'workers', exportTimeout: 2000, ...d.opts });
const tr = p.getTracer('worker');
if (d.mode === 'finite') {
  for (let i = 0; i < d.n; i++) {
    const s = tr.startSpan('worker-span');
    s.setAttribute('thread', d.name);
    s.setAttribute('i', i);
    s.end();
  }
  if (d.shutdown) p.shutdown().then(() => parentPort.postMessage('done'));
  else parentPort.postMessage('done'); // no shutdown: the exit hook flushes
} else {
  // Busy until terminated: nested active spans, a turn of the event loop every 200.
  let turns = 0;
  const loop = () => {
    for (let k = 0; k < 200; k++) {
      tr.startActiveSpan('busy', (s) => {
        tr.startActiveSpan('busy-child', (c) => c.end());
        s.setAttribute('thread', d.name);
        s.end();
      });
    }
    if (++turns === 5) parentPort.postMessage('busy');
    setImmediate(loop);
  };
  loop();
}
`;

const mainScript = (endpoint) => `
const fs = require('node:fs');
const { Worker } = require('node:worker_threads');
const api = require(${JSON.stringify(API)});
const { TracerProvider } = require(${JSON.stringify(PKG)});

// The pipeline's threads (decoder, batch, export) by name; Linux has /proc (elsewhere: none seen).
const threadNames = () =>
  (fs.existsSync('/proc/self/task') ? fs.readdirSync('/proc/self/task') : [])
    .map((t) => { try { return fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim(); } catch { return ''; } })
    .filter((n) => n.startsWith('polytrace'));
const pipelineThreads = () => threadNames().length;
const warnings = [];
api.diag.setLogger({ error: (m) => warnings.push(m), warn: (m) => warnings.push(m), info() {}, debug() {}, verbose() {} }, api.DiagLogLevel.WARN);

function start(name, mode, extra = {}) {
  const w = new Worker(${JSON.stringify(workerCode)}, {
    eval: true,
    workerData: { api: ${JSON.stringify(API)}, pkg: ${JSON.stringify(PKG)}, endpoint: ${JSON.stringify(endpoint)}, name, mode, n: 300, opts: {}, ...extra },
  });
  const exited = new Promise((res) => w.once('exit', res));
  const message = (m) => new Promise((res) => w.on('message', (x) => x === m && res()));
  w.on('error', (e) => { console.error('worker error', e); process.exitCode = 2; });
  return { w, exited, message };
}
const within = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(what + ' took more than ' + ms + ' ms')), ms).unref())]);

(async () => {
  const before = pipelineThreads();
  let main = new TracerProvider({ endpoint: ${JSON.stringify(endpoint)}, serviceName: 'workers' });
  let tr = main.getTracer('main');
  for (let i = 0; i < 50; i++) tr.startSpan('main-span').end();

  // Two Workers with their own providers, side by side with the main thread's.
  const a = start('A', 'finite', { shutdown: true });
  const b = start('B', 'finite', { shutdown: false });
  const codes = await within(Promise.all([a.exited, b.exited]), 20000, 'natural worker exit');
  const t0 = Date.now();

  // Terminated while producing spans: with the receiver up, and with a back end that is down.
  const terminateMs = [];
  for (const [name, opts] of [['C', {}], ['D', { endpoint: 'http://127.0.0.1:9' }], ['E', {}]]) {
    const c = start(name, 'busy', { opts });
    await within(c.message('busy'), 20000, 'worker ' + name + ' start');
    await new Promise((r) => setTimeout(r, 30));
    const t = Date.now();
    await within(c.w.terminate(), 15000, 'terminate ' + name);
    terminateMs.push(Date.now() - t);
  }
  // Several at once, terminated together.
  const many = ['F', 'G', 'H'].map((n) => start(n, 'busy'));
  await within(Promise.all(many.map((m) => m.message('busy'))), 20000, 'workers F-H start');
  await within(Promise.all(many.map((m) => m.w.terminate())), 15000, 'terminate F-H');

  // The main thread's pipeline still works, and still reports its diagnostics.
  for (let i = 0; i < 10; i++) tr.startSpan('main-after').end();
  process.env.OTEL_BSP_MAX_QUEUE_SIZE = 'not-a-number';
  let bad = new TracerProvider({ exporter: 'none' });
  delete process.env.OTEL_BSP_MAX_QUEUE_SIZE;
  await bad.shutdown();
  await main.shutdown();
  // Terminated Workers' core pipelines drain what they had queued (bounded by their export
  // timeout) and stop; shut-down providers' threads end when the provider is collected.
  main = bad = tr = null;
  if (global.gc) for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setTimeout(r, 50)); }
  let after = pipelineThreads();
  const w0 = Date.now();
  for (let i = 0; i < 600 && after > before; i++) {
    if (global.gc) global.gc();
    await new Promise((r) => setTimeout(r, 50));
    after = pipelineThreads();
  }
  console.log(JSON.stringify({ drainMs: Date.now() - w0, names: threadNames(), codes, terminateMs, before, after, warnings, ms: Date.now() - t0 }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

test('worker_threads: main and two Workers export; natural exit and terminate() mid-work are clean', { timeout: 120000 }, async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.stop());
  const r = await nodeAsync(['--expose-gc', '-e', mainScript(receiver.http)], { cwd: path.join(PKG, '__test__'), timeout: 90000 });
  assert.equal(r.signal, null, `the process was killed: ${r.signal}\n${r.stderr}`);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.deepEqual(out.codes, [0, 0], 'both Workers ended by themselves (nothing kept them alive)');
  assert.equal(out.terminateMs.length, 3);
  for (const ms of out.terminateMs) assert.ok(ms < 5000, `terminate() took ${ms} ms`);
  assert.ok(
    out.after <= out.before,
    `the pipeline threads of ended Workers and providers are gone (${out.before} before, ${out.after} after: ${out.names})`,
  );
  assert.ok(
    out.warnings.some((w) => /OTEL_BSP_MAX_QUEUE_SIZE/.test(w)),
    `the main thread still gets core diagnostics after Workers came and went: ${JSON.stringify(out.warnings)}`,
  );

  const spans = await receiver.waitForSpans(50 + 300 + 300 + 10, 15000);
  const count = (pred) => spans.filter(pred).length;
  assert.equal(count((s) => s.name === 'main-span'), 50);
  assert.equal(count((s) => s.name === 'main-after'), 10);
  assert.equal(count((s) => s.name === 'worker-span' && s.attrs.thread === 'A'), 300, 'Worker A (shut down)');
  assert.equal(count((s) => s.name === 'worker-span' && s.attrs.thread === 'B'), 300, 'Worker B (flushed at its exit)');
  const a = spans.filter((s) => s.attrs.thread === 'A').map((s) => s.attrs.i);
  assert.equal(new Set(a).size, 300);
  // Busy Workers' spans are whatever they had exported when terminated; their ids are unique.
  const ids = spans.map((s) => s.spanId);
  assert.equal(new Set(ids).size, ids.length, 'span ids are unique across threads');
});
