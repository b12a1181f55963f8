'use strict';
// Concurrency (docs/reliability.md): the main thread and four worker_threads, each with its own
// provider, produce spans while flushes run concurrently and a shutdown comes in the middle; no
// crash, no deadlock, and every provider's counters stay consistent (exported + dropped =
// ended). Runs in a child process, so a crash is a failed test, not a dead runner.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const { PKG, startReceiver } = require('./helpers');

const body = `
const { TracerProvider } = require(${JSON.stringify(PKG)});
async function run(name, endpoint) {
  const p = new TracerProvider({ endpoint, serviceName: 'chaos', scheduleDelay: 20 });
  const t = p.getTracer(name);
  const failed = [];
  let flushes = 0;
  let running = true;
  // A flusher: one forceFlush at a time, back to back, while the producers run.
  const flusher = (async () => {
    while (running) {
      flushes++;
      await p.forceFlush(5000).catch((e) => failed.push(e.code));
    }
  })();
  let shut;
  const start = Date.now();
  while (Date.now() - start < 1200) {
    for (let k = 0; k < 100; k++) {
      t.startActiveSpan('outer', (s) => {
        t.startSpan('inner').end();
        s.setAttribute('k', k);
        s.end();
      });
    }
    if (!shut && Date.now() - start > 600) shut = p.shutdown(); // in the middle
    await new Promise((r) => setImmediate(r));
  }
  running = false;
  await flusher;
  await shut;
  return { name, stats: p.stats(), flushes, failed };
}
`;

const script = (endpoint) => `
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
${body}
if (isMainThread) {
  const workers = [0, 1, 2, 3].map((i) => new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { name: 'worker-' + i, endpoint: ${JSON.stringify(endpoint)} } });
    w.once('message', resolve);
    w.once('error', reject);
  }));
  Promise.all([run('main', ${JSON.stringify(endpoint)}), ...workers]).then((all) => {
    console.log('RESULT ' + JSON.stringify(all));
  });
} else {
  run(workerData.name, workerData.endpoint).then((r) => parentPort.postMessage(r));
}
`;

test('producers on five threads with concurrent flushes and a shutdown in the middle', async (t) => {
  const r = await startReceiver();
  t.after(() => r.stop());
  const fs = require('node:fs');
  const path = require('node:path');
  const os = require('node:os');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'polytrace-chaos-')), 'chaos.js');
  fs.writeFileSync(file, script(r.http));
  // Asynchronously: the receiver logs a line per request to a pipe this process reads, and a
  // blocked event loop (spawnSync) would let that pipe fill and stall the receiver mid-test.
  const out = await new Promise((resolve) => {
    execFile(process.execPath, [file], { encoding: 'utf8', timeout: 60000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
  assert.equal(out.status, 0, out.stderr);
  const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, out.stdout + out.stderr);
  const results = JSON.parse(line.slice(7));
  assert.equal(results.length, 5);
  let exported = 0;
  for (const { name, stats: st, flushes, failed } of results) {
    assert.ok(st.spansEnded > 500, `${name}: ${JSON.stringify(st)}`);
    assert.equal(st.spansExported + st.spansDropped, st.spansEnded, `${name}: ${JSON.stringify(st)}`);
    assert.ok(flushes > 0, name);
    assert.deepEqual(failed, [], `${name}: flushes failed`);
    exported += st.spansExported;
  }
  const got = await r.waitForSpans(exported, 20000);
  assert.ok(got.length >= exported, `${got.length} of ${exported} arrived`);
});
