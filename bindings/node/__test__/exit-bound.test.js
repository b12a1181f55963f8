'use strict';
// Prompt exit with the back end down (issue 16): a real Node process makes 3,000 spans and exits
// normally (the exit hook) or calls shutdown(), with the endpoint on a closed loopback port
// (connection refused) or on a socket that accepts and never answers. The exit takes at most the
// exit bound (OTEL_EXPORTER_OTLP_TIMEOUT, or OTEL_BSP_EXPORT_TIMEOUT if smaller) plus 0.5 s,
// and every span is exported or counted as dropped when it ends.

const test = require('node:test');
const assert = require('node:assert/strict');
const { PKG, runNode, closedPort, silentBackend } = require('./helpers');

// The script's own 'exit' listener is added after the provider's exit hook, so it runs after
// it and prints the final counters; the time the exit starts is printed by the script's last line.
const script = (tail = '') => `
const { TracerProvider } = require(${JSON.stringify(PKG)});
const p = new TracerProvider({ serviceName: 'exit-bound' });
process.on('exit', () => console.log('STATS ' + JSON.stringify(p.stats())));
const t = p.getTracer('exit');
for (let i = 0; i < 3000; i++) t.startSpan('s' + i).end();
${tail}
console.log('EXIT-STARTS ' + Date.now());
`;

/** Runs the script; returns how long its exit took (ms), its final counters and its output. */
function runExit(port, env, tail) {
  const r = runNode(['-e', script(tail)], {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, ...env },
    timeout: 90000,
  });
  const endedAt = Date.now();
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const started = r.stdout.split('\n').find((l) => l.startsWith('EXIT-STARTS '));
  const stats = r.stdout.split('\n').find((l) => l.startsWith('STATS '));
  assert.ok(started && stats, r.stdout + r.stderr);
  return { took: endedAt - Number(started.slice(12)), stats: JSON.parse(stats.slice(6)), r };
}

function assertAllCounted(st) {
  assert.equal(st.spansEnded, 3000, JSON.stringify(st));
  assert.equal(st.spansExported, 0, JSON.stringify(st));
  assert.equal(st.spansExported + st.spansDropped, st.spansEnded, JSON.stringify(st));
}

for (const otlpTimeout of [2000, 10000]) {
  test(`exit with the back end refusing is prompt (OTLP timeout ${otlpTimeout} ms)`, async () => {
    // The case: 30.2 s before the fix, whatever OTEL_EXPORTER_OTLP_TIMEOUT said.
    const { took, stats, r } = runExit(await closedPort(), {
      OTEL_EXPORTER_OTLP_TIMEOUT: String(otlpTimeout),
    });
    assertAllCounted(stats);
    assert.ok(took < otlpTimeout + 500, `exit took ${took} ms`);
    assert.ok(took < 2000, `a refused connection was retried at exit: ${took} ms`);
    assert.doesNotMatch(r.stderr, /did not finish/);
  });
}

test('exit with a silent back end takes the OTLP timeout', async (t) => {
  const { took, stats } = runExit(await silentBackend(t), { OTEL_EXPORTER_OTLP_TIMEOUT: '1500' });
  assertAllCounted(stats);
  assert.ok(took >= 1200 && took < 1500 + 500, `exit took ${took} ms`);
});

test('the exit bound is the smaller of the OTLP and batch export timeouts', async (t) => {
  const { took, stats } = runExit(await silentBackend(t), {
    OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
    OTEL_BSP_EXPORT_TIMEOUT: '1000',
  });
  assertAllCounted(stats);
  assert.ok(took >= 800 && took < 1000 + 500, `exit took ${took} ms`);
});

test('shutdown() after an outage is prompt', async () => {
  const tail = `
    const until = Date.now() + 1000;
    while (Date.now() < until) {}   // the outage: the worker is retrying a refused connection
  `;
  // shutdown() is awaited in an async wrapper: its time is printed before the exit.
  const r = runNode(
    [
      '-e',
      `${script(tail)}
      (async () => {
        const t0 = Date.now();
        await p.shutdown();
        console.log('SHUTDOWN-TOOK ' + (Date.now() - t0));
      })();`,
    ],
    {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      timeout: 90000,
    },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const took = r.stdout.split('\n').find((l) => l.startsWith('SHUTDOWN-TOOK '));
  assert.ok(took && Number(took.slice(14)) < 1000, r.stdout);
  assertAllCounted(JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('STATS ')).slice(6)));
});
