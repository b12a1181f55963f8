'use strict';
// The demo's API gateway. Routes
//   POST /api/orders       -> order-service POST /orders
//   GET  /api/orders/:id   -> order-service GET /orders/:id
// A client's traceparent/tracestate is honoured (the HTTP instrumentation extracts it; without
// one the gateway's SERVER span starts the trace). Answers carry the trace id, so a client can
// find its trace. Environment: PORT (default 0: a free port), ORDER_URL.
// Prints `api-gateway listening on 127.0.0.1:PORT`; SIGTERM/SIGINT stop it after a flush.
const http = require('node:http');
const { trace } = require('@opentelemetry/api');
const pino = require('pino');
const { provider } = require('./tracing');

// pino lines get trace_id, span_id and trace_flags from @opentelemetry/instrumentation-pino.
const log = pino({ base: { service: 'api-gateway' }, timestamp: pino.stdTimeFunctions.isoTime });
const orderUrl = new URL(process.env.ORDER_URL || 'http://127.0.0.1:8081');

function forward(method, path, body, res) {
  const req = http.request(
    {
      host: orderUrl.hostname,
      port: orderUrl.port,
      method,
      path,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: 60000,
    },
    (upstream) => {
      const chunks = [];
      upstream.on('data', (c) => chunks.push(c));
      upstream.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let payload;
        try {
          payload = JSON.parse(text);
        } catch {
          payload = { error: text };
        }
        reply(res, upstream.statusCode, payload);
      });
    },
  );
  req.on('timeout', () => req.destroy(new Error('order-service timed out')));
  req.on('error', (err) => {
    log.error({ err: err.message }, 'order-service unreachable');
    reply(res, 502, { error: `order-service: ${err.message}` });
  });
  req.end(body);
}

function reply(res, status, payload) {
  const span = trace.getActiveSpan();
  const traceId = span ? span.spanContext().traceId : undefined;
  const text = JSON.stringify({ ...payload, trace_id: traceId });
  log.info({ status }, 'answered %d', status);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

/** Names the SERVER span after its route, as the HTTP semantic conventions do. */
function route(method, template) {
  const span = trace.getActiveSpan();
  if (span) {
    span.setAttribute('http.route', template);
    span.updateName(`${method} ${template}`);
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://gateway');
    const get = /^\/api\/orders\/([A-Za-z0-9-]+)$/.exec(url.pathname);
    if (req.method === 'POST' && url.pathname === '/api/orders') {
      route('POST', '/api/orders');
      log.info('new order');
      forward('POST', '/orders', body, res);
    } else if (req.method === 'GET' && get) {
      route('GET', '/api/orders/:id');
      log.info({ order: get[1] }, 'order lookup');
      forward('GET', `/orders/${get[1]}`, '', res);
    } else {
      reply(res, 404, { error: 'not found' });
    }
  });
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`api-gateway listening on 127.0.0.1:${server.address().port}`);
});

function stop() {
  server.close();
  provider.shutdown().finally(() => process.exit(0));
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
