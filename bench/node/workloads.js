'use strict';
// The span workloads bench.js and parts.js run, in one place.

/** W1: startSpan + 3 setAttribute + end, on `tracer`. */
const w1 = (tracer) => () => {
  const s = tracer.startSpan('GET /users/:id');
  s.setAttribute('http.request.method', 'GET');
  s.setAttribute('http.response.status_code', 200);
  s.setAttribute('cache.hit', true);
  s.end();
};

module.exports = { w1 };
