'use strict';
// polytrace vs the official JavaScript SDK (@opentelemetry/sdk-trace-base with its
// BatchSpanProcessor and the OTLP/HTTP protobuf exporter), the same workloads through
// @opentelemetry/api, in the same run. Not a timed test: `node bench.js` prints a table.
//
//   W1  startSpan + 3 setAttribute + end                     ns per span
//   W3  startActiveSpan nested 3 deep                          ns per span
//   W4  inject + extract (W3C traceparent)                     ns per pair
//   T   spans delivered per second to a loopback OTLP receiver, and how many were lost,
//       (a) producing as fast as possible for a few seconds (yielding to the event loop every
//       1000 spans), (b) paced below the drain rate; the time includes the final shutdown
//
// Each (SDK, workload) runs in its own child process (fresh JIT and heap), alternating SDKs,
// REPEAT times; the table shows the median. "wall" is the hot loop's elapsed time per
// operation on the application thread; "cpu" is the whole process's CPU time per operation
// (every thread: export, polytrace's decoder and export threads) over the loop plus the final
// flush, so work moved off the application thread still counts.
//
// Both pipelines export to the same receiver (`polytrace receive --count-only`, started here)
// with their default batch settings (queue 2048, batch 512, delay 5 s: the specification's
// defaults). The receiver counts spans on the protobuf wire format without decoding them: it
// shares this machine's CPUs with the process measured, and decoding every span (and writing
// it as JSON, as plain `polytrace receive` does) cost it ~1,200 ns of CPU per span (against
// ~170 ns counting), taken from whichever process exports during its hot loop. Its CPU per
// operation is printed with --threads. Children run one at a time, so each one's delivered spans are the difference of
// the receiver's running total.
//
// Options: --quick (fewer iterations), --repeat N, --only W1,W3,..., --threads (also print,
// per workload and SDK, where the hot loop's time went: each thread's CPU time and run-queue
// wait from /proc/self/task/*/schedstat (Linux), and the garbage collector's pauses).
// Environment: POLYTRACE_CLI (the polytrace binary), POLYTRACE_NATIVE_PATH (the addon).

const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const workloads = require('./workloads');

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const REPEAT = Number(argValue('--repeat') || (QUICK ? 1 : 3));
const ONLY = (argValue('--only') || 'W1,W3,W4,T').split(',');
const THREADS = args.includes('--threads') || process.env.BENCH_THREADS === '1';
const N = { W1: QUICK ? 100000 : 400000, W3: QUICK ? 50000 : 150000, W4: QUICK ? 100000 : 400000 };
const T_SECONDS = QUICK ? 2 : 4;
const PACED_RATE = 20000; // spans per second
const PACED_SECONDS = QUICK ? 2 : 4;

function argValue(name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Child: one SDK, one workload.

async function child(sdk, workload, endpoint) {
  const api = require('@opentelemetry/api');
  let provider;
  if (sdk === 'otel') {
    const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
    const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
    const { CompositePropagator, W3CTraceContextPropagator, W3CBaggagePropagator } = require('@opentelemetry/core');
    const { resourceFromAttributes } = require('@opentelemetry/resources');
    provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': `bench-otel-${workload}` }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))],
    });
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    api.propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    );
    api.trace.setGlobalTracerProvider(provider);
  } else {
    const { TracerProvider } = require('polytrace');
    provider = new TracerProvider({ endpoint, serviceName: `bench-${sdk}-${workload}` }).register();
  }
  const tracer = api.trace.getTracer('bench', '1.0.0');
  const yieldLoop = () => new Promise((r) => setImmediate(r));

  const w1 = workloads.w1(tracer);
  const w3 = () => {
    tracer.startActiveSpan('a', (s1) => {
      tracer.startActiveSpan('b', (s2) => {
        tracer.startActiveSpan('c', (s3) => s3.end());
        s2.end();
      });
      s1.end();
    });
  };
  const parentCtx = api.trace.setSpan(api.ROOT_CONTEXT, tracer.startSpan('parent'));
  const carrier = {};
  const w4 = () => {
    api.propagation.inject(parentCtx, carrier);
    api.propagation.extract(api.ROOT_CONTEXT, carrier);
  };

  const out = { sdk, workload };
  if (workload === 'W1' || workload === 'W3' || workload === 'W4') {
    const fn = { W1: w1, W3: w3, W4: w4 }[workload];
    const per = workload === 'W3' ? 3 : 1;
    const n = N[workload];
    const CHUNK = 10000;
    // Warm up (JIT), then measure in chunks with a turn of the event loop in between, so the
    // JavaScript SDK's processor gets to export as it would in a server.
    for (let i = 0; i < 20000; i++) fn();
    await yieldLoop();
    const gc = THREADS ? gcPauses() : undefined;
    const threads0 = THREADS ? schedstat() : undefined;
    const cpu0 = process.cpuUsage();
    let hot = 0n;
    for (let done = 0; done < n; done += CHUNK) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < CHUNK; i++) fn();
      hot += process.hrtime.bigint() - t0;
      await yieldLoop();
    }
    if (THREADS) {
      out.threads = perThread(threads0, schedstat(), n * per);
      out.gcNs = gc.stop() / (n * per);
    }
    await provider.forceFlush().catch(() => {});
    const cpu = process.cpuUsage(cpu0);
    out.ops = n * per;
    out.wallNs = Number(hot) / n / per;
    out.cpuNs = ((cpu.user + cpu.system) * 1000) / n / per;
  } else if (workload === 'T' || workload === 'P') {
    // T: as fast as possible, yielding every 1000 spans; P: paced at PACED_RATE.
    let total = workload === 'T' ? 0 : PACED_RATE * PACED_SECONDS;
    const t0 = process.hrtime.bigint();
    if (workload === 'T') {
      const until = Date.now() + T_SECONDS * 1000;
      while (Date.now() < until) {
        for (let i = 0; i < 1000; i++) w1();
        total += 1000;
        await yieldLoop();
      }
    } else {
      const perTick = PACED_RATE / 100; // every 10 ms
      const start = Date.now();
      for (let tick = 0; tick * perTick < total; tick++) {
        for (let i = 0; i < perTick; i++) w1();
        const next = start + (tick + 1) * 10;
        await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      }
    }
    await provider.shutdown().catch(() => {});
    out.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    out.produced = total;
  }
  if (!out.seconds) await provider.shutdown().catch(() => {});
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/**
 * Per thread of this process (Linux): name, CPU time and run-queue wait in ns
 * (/proc/self/task/<tid>/schedstat), keyed by tid. Empty elsewhere.
 */
function schedstat() {
  const out = new Map();
  const dir = '/proc/self/task';
  if (!fs.existsSync(dir)) return out;
  for (const tid of fs.readdirSync(dir)) {
    try {
      const name = fs.readFileSync(`${dir}/${tid}/comm`, 'utf8').trim();
      const [run, wait] = fs.readFileSync(`${dir}/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      out.set(tid, { name: tid === String(process.pid) ? 'main (JavaScript)' : name, run, wait });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** The difference of two `schedstat()`s per operation, summed by thread name. */
function perThread(before, after, ops) {
  const by = {};
  for (const [tid, a] of after) {
    const b = before.get(tid) || { run: 0, wait: 0 };
    const t = (by[a.name] ||= { run: 0, wait: 0 });
    t.run += (a.run - b.run) / ops;
    t.wait += (a.wait - b.wait) / ops;
  }
  return by;
}

/** Sums the garbage collector's pauses from now until `stop()` (ns). */
function gcPauses() {
  const { PerformanceObserver } = require('node:perf_hooks');
  let total = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) total += e.duration * 1e6;
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      // Entries are delivered asynchronously; take what has been delivered.
      const rest = obs.takeRecords ? obs.takeRecords() : [];
      for (const e of rest) total += e.duration * 1e6;
      obs.disconnect();
      return total;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Parent: receiver, schedule, table.

function cli() {
  const root = path.join(__dirname, '..', '..');
  const target = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
  for (const p of [process.env.POLYTRACE_CLI, path.join(target, 'release', 'polytrace'), path.join(target, 'debug', 'polytrace')]) {
    if (p && fs.existsSync(p)) return p;
  }
  throw new Error('the polytrace CLI is missing: cargo build --release -p polytrace-cli');
}

function startReceiver() {
  const child = spawn(cli(), ['receive', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--count-only'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  /** Spans received so far (the receiver prints its running total). */
  const received = { total: 0 };
  /** The receiver's CPU time so far in ns (Linux), or undefined. */
  const cpuNs = () => {
    try {
      const f = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return ((Number(f[11]) + Number(f[12])) * 1e9) / 100; // utime + stime, in clock ticks of 10 ms
    } catch {
      return undefined;
    }
  };
  let buf = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^received (\d+) spans$/.exec(line);
        if (m) received.total = Number(m[1]);
        const l = /listening grpc=\S+ http=(\S+)/.exec(line);
        if (l) resolve({ endpoint: `http://${l[1]}`, received, cpuNs, stop: () => child.kill('SIGTERM') });
      }
    });
    child.once('exit', (c) => reject(new Error(`receiver exited ${c}`)));
  });
}

/** Runs one child asynchronously: the receiver's stderr must keep being read meanwhile. */
function runChild(sdk, workload, endpoint, env = {}) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [__filename, '--child', sdk, workload, endpoint], {
      env: { ...process.env, ...env, BENCH_THREADS: THREADS ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.once('exit', () => {
      const line = out.trim().split('\n').pop();
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`child ${sdk} ${workload} failed: ${err}`));
      }
    });
  });
}

const median = (xs) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const fmt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');

async function main() {
  const receiver = await startReceiver();
  const sdks = [
    ['otel', {}],
    ['polytrace', {}],
    ['polytrace-inline', { POLYTRACE_NODE_INLINE_DECODE: '1' }],
  ];
  const results = [];
  const settle = () => new Promise((r) => setTimeout(r, 300));
  for (const w of ['W1', 'W3', 'W4'].filter((x) => ONLY.includes(x))) {
    for (let rep = 0; rep < REPEAT; rep++) {
      for (const [sdk, env] of sdks) {
        const cpu0 = receiver.cpuNs();
        const r = await runChild(sdk, w, receiver.endpoint, env);
        await settle();
        const cpu1 = receiver.cpuNs();
        // Over the whole child (warm-up and final flush included), per measured operation.
        if (cpu0 !== undefined && cpu1 !== undefined) r.receiverNs = (cpu1 - cpu0) / r.ops;
        results.push(r);
      }
    }
  }
  const tput = [];
  if (ONLY.includes('T')) {
    for (const w of ['T', 'P']) {
      for (const [sdk, env] of sdks) {
        const before = receiver.received.total;
        const r = await runChild(sdk, w, receiver.endpoint, env);
        // Give the receiver a moment to report the last requests.
        await new Promise((res) => setTimeout(res, 1000));
        r.received = receiver.received.total - before;
        tput.push(r);
      }
    }
  }
  receiver.stop();

  const lines = [];
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  lines.push(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), load average after the run: ${load}`);
  lines.push(`median of ${REPEAT} run(s); wall = hot loop on the application thread, cpu = all threads of the process`);
  lines.push('');
  lines.push('| workload | official SDK wall | official SDK cpu | polytrace wall | polytrace cpu | ratio (wall) | polytrace inline-decode wall | inline cpu |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  const names = { W1: 'W1 startSpan + 3 setAttribute + end (ns/span)', W3: 'W3 startActiveSpan nested 3 deep (ns/span)', W4: 'W4 inject + extract (ns/op)' };
  for (const w of ['W1', 'W3', 'W4'].filter((x) => ONLY.includes(x))) {
    const get = (sdk, k) => median(results.filter((r) => r.sdk === sdk && r.workload === w).map((r) => r[k]));
    const o = get('otel', 'wallNs');
    const p = get('polytrace', 'wallNs');
    lines.push(
      `| ${names[w]} | ${fmt(o)} | ${fmt(get('otel', 'cpuNs'))} | ${fmt(p)} | ${fmt(get('polytrace', 'cpuNs'))} | ${(o / p).toFixed(1)}× | ${fmt(get('polytrace-inline', 'wallNs'))} | ${fmt(get('polytrace-inline', 'cpuNs'))} |`,
    );
  }
  if (THREADS) {
    lines.push('');
    lines.push('Where the hot loop went (ns per operation, median of the runs): CPU time and run-queue wait per thread, GC pauses');
    lines.push('');
    lines.push('| workload | SDK | wall | GC pauses | thread: cpu / run-queue wait | receiver process cpu |');
    lines.push('|---|---|---:|---:|---|---:|');
    for (const w of ['W1', 'W3', 'W4'].filter((x) => ONLY.includes(x))) {
      for (const [sdk] of sdks) {
        const rs = results.filter((r) => r.sdk === sdk && r.workload === w && r.threads);
        if (!rs.length) continue;
        const names = [...new Set(rs.flatMap((r) => Object.keys(r.threads)))];
        const cols = names
          .map((n) => [n, median(rs.map((r) => r.threads[n]?.run ?? 0)), median(rs.map((r) => r.threads[n]?.wait ?? 0))])
          .filter(([, run, wait]) => run + wait >= 1)
          .map(([n, run, wait]) => `${n} ${fmt(run)} / ${fmt(wait)}`);
        const recv = fmt(median(rs.map((r) => r.receiverNs)));
        lines.push(`| ${w} | ${sdk} | ${fmt(median(rs.map((r) => r.wallNs)))} | ${fmt(median(rs.map((r) => r.gcNs)))} | ${cols.join('; ')} | ${recv} |`);
      }
    }
  }
  if (tput.length) {
    lines.push('');
    lines.push('| delivery to a loopback OTLP receiver | produced | received | lost | spans/s delivered |');
    lines.push('|---|---:|---:|---:|---:|');
    for (const r of tput) {
      const what = r.workload === 'T' ? `as fast as possible for ${T_SECONDS} s` : `paced at ${PACED_RATE.toLocaleString('en-US')}/s`;
      lines.push(`| ${r.sdk}, ${what} | ${fmt(r.produced)} | ${fmt(r.received)} | ${fmt(r.produced - r.received)} | ${fmt(r.received / r.seconds)} |`);
    }
  }
  console.log(lines.join('\n'));
}

if (args[0] === '--child') {
  child(args[1], args[2], args[3]).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
