'use strict';
// 20,480 W1 spans (start, 3 attributes, end) through @opentelemetry/api on polytrace, exporter
// none, for an instruction count of the native side:
//
//   POLYTRACE_NODE_INLINE_DECODE=1 valgrind --tool=callgrind node w1-callgrind.js
//   callgrind_annotate --inclusive=yes callgrind.out.* | grep provider::record
//
// (inline decoding puts the decoder on the JavaScript thread, so one thread holds it all).
// PKG names the package to load (default: this checkout's bindings/node).
const path = require('node:path');
const { TracerProvider } = require(process.env.PKG || path.join(__dirname, '..', '..', 'bindings', 'node'));

const SPANS = 20480;
const p = new TracerProvider({ exporter: 'none' });
const t = p.getTracer('w1');
for (let i = 0; i < SPANS; i++) {
  const s = t.startSpan('GET /api/orders');
  s.setAttribute('http.request.method', 'GET');
  s.setAttribute('http.response.status_code', 200);
  s.setAttribute('url.path', '/api/orders');
  s.end();
}
p.shutdown().then(() => console.log(JSON.stringify(p.stats())));
