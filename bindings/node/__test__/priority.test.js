'use strict';
// Thread priorities: the core's pipeline threads (batch, export) run 10 nicer than the
// application (src/provider.rs, PIPELINE_NICE_INCREMENT; at most 19), so on a busy machine the JavaScript thread gets
// the CPU first; the JavaScript thread and the decoder thread keep the application's priority,
// and the spans still arrive.

const test = require('node:test');
const assert = require('node:assert/strict');
const { PKG, startReceiver, runNode } = require('./helpers');

test('pipeline threads run 10 nicer than the application, the application and decoder threads keep its priority', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.stop());
  const r = runNode([
    '-e',
    `
    const fs = require('node:fs');
    const os = require('node:os');
    const { TracerProvider } = require(${JSON.stringify(PKG)});
    // Thread name → niceness values (Linux: /proc/self/task/*/stat, field 19).
    const nice = () => {
      const out = {};
      if (!fs.existsSync('/proc/self/task')) return out;
      for (const t of fs.readdirSync('/proc/self/task')) {
        try {
          const stat = fs.readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
          const name = fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim();
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          (out[name] ||= []).push(Number(fields[16]));
        } catch {}
      }
      return out;
    };
    const p = new TracerProvider({ endpoint: '${receiver.http}', serviceName: 'priority' });
    const tr = p.getTracer('t');
    for (let i = 0; i < 20; i++) tr.startSpan('prio-' + i).end();
    // A new thread names itself when it first runs: wait (at most 5 s) for the decoder's name.
    const deadline = Date.now() + 5000;
    const look = () => {
      const threads = nice();
      if (!threads['polytrace-node'] && fs.existsSync('/proc/self/task') && Date.now() < deadline) return setTimeout(look, 20);
      const main = os.getPriority(0);
      p.shutdown().then(() => console.log(JSON.stringify({ threads, main, stats: p.stats() })));
    };
    look();
    `,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  const spans = await receiver.waitForSpans(20);
  assert.equal(spans.filter((s) => s.name.startsWith('prio-')).length, 20);
  assert.equal(out.stats.spansExported, 20);
  // The test runner's own niceness (e.g. under `nice`) is the application's.
  const base = require('node:os').getPriority(0);
  assert.equal(out.main, base, 'the application thread keeps its priority');
  if (process.platform === 'linux') {
    const nicer = Math.min(base + 10, 19);
    assert.deepEqual(out.threads['polytrace-batch'], [nicer]);
    assert.deepEqual(out.threads['polytrace-expor'], [nicer]); // "polytrace-export", cut to 15 bytes
    assert.deepEqual(out.threads['polytrace-node'], [base]);
    assert.ok(out.threads.node.every((n) => n === base), `node's own threads: ${out.threads.node}`);
    assert.equal(out.threads['polytrace-start'], undefined, 'the start thread has ended');
  } else {
    // No per-thread niceness elsewhere: the pipeline is built on the calling thread.
    assert.equal(out.threads['polytrace-batch'], undefined);
  }
});
