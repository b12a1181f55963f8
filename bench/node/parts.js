'use strict';
// The pieces of W1 and W4 (bench.js), measured in one process: where the time goes, and the
// floors no tracing SDK behind @opentelemetry/api can go below. Not a timed test.
//
//   node parts.js            (9 rounds of 100,000 calls each; prints min and median ns/call)
//
//   api-noop W1        W1 through the API with no provider registered (the API's no-op tracer)
//   performance.now    one clock read (a span needs two: start and end)
//   context.active     the API's active-context lookup (startSpan does one)
//   W1 js-only         W1 on polytrace with the hand-over to the core replaced by a no-op:
//                      the JavaScript thread's share of a span
//   W1                 W1 on polytrace (batches handed to the decoder thread)
//   api setSpanContext the API's trace.setSpanContext (a BaseContext copies its parent's map)
//   extract (flat)     polytrace's extract of a flat traceparent (as read from a socket)
//   inject             polytrace's inject of a span's traceparent
//   W4                 inject + extract of the same carrier, as bench.js runs it

const api = require('@opentelemetry/api');
const { performance } = require('node:perf_hooks');

const ROUNDS = 9;
const N = 100000;

function measure(cases) {
  const res = {};
  for (const f of Object.values(cases)) for (let i = 0; i < N; i++) f();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, f] of Object.entries(cases)) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) f();
      (res[k] ||= []).push(Number(process.hrtime.bigint() - t0) / N);
    }
  }
  for (const [k, v] of Object.entries(res)) {
    v.sort((a, b) => a - b);
    console.log(`${k.padEnd(20)} min ${v[0].toFixed(0).padStart(5)} ns   median ${v[ROUNDS >> 1].toFixed(0).padStart(5)} ns`);
  }
}

const { w1: workload } = require('./workloads');

// The no-op floor, in a process of its own (V8's feedback for W1 must not mix the API's
// no-op spans with polytrace's).
if (process.argv[2] === '--noop') {
  measure({ 'api-noop W1': workload(api.trace.getTracer('bench', '1.0.0')) });
  process.exit(0);
}
const noop = require('node:child_process').spawnSync(process.execPath, [__filename, '--noop'], { encoding: 'utf8' });
process.stdout.write(noop.stdout + noop.stderr);

const { TracerProvider } = require('polytrace');
const provider = new TracerProvider({ exporter: 'none', serviceName: 'parts' }).register();
const tracer = api.trace.getTracer('bench', '1.0.0');
const w1 = workload(tracer);
const parent = tracer.startSpan('parent');
const parentCtx = api.trace.setSpan(api.ROOT_CONTEXT, parent);
const carrier = {};
api.propagation.inject(parentCtx, carrier);
// A flat copy of the header, as a server reads it from a socket.
const flat = { traceparent: Buffer.from(carrier.traceparent).toString('latin1') };
const sc = { traceId: parent.spanContext().traceId, spanId: parent.spanContext().spanId, traceFlags: 1, isRemote: true };

measure({
  'performance.now': () => performance.now(),
  'context.active': () => api.context.active(),
  W1: w1,
  'api setSpanContext': () => api.trace.setSpanContext(api.ROOT_CONTEXT, sc),
  'extract (flat)': () => api.propagation.extract(api.ROOT_CONTEXT, flat),
  inject: () => api.propagation.inject(parentCtx, carrier),
  W4: () => {
    api.propagation.inject(parentCtx, carrier);
    api.propagation.extract(api.ROOT_CONTEXT, carrier);
  },
});

// Last: the JavaScript thread's share of W1 (batches are dropped instead of handed over).
const probe = tracer.startSpan('probe');
probe._tr._p.batch.submitFn = () => 0;
probe.end();
measure({ 'W1 js-only': w1 });
