'use strict';
// An HTTP service: POST-less checkout that prices a cart through an internal "pricing" endpoint
// (a real HTTP hop on loopback, so the trace shows client and server spans), hashes the order
// and fails on an empty cart. The HTTP instrumentation makes the server and client spans; the
// handler adds its own span with attributes, an event and, on failure, an exception.
//
//   node --require ./tracing.js server.js          serve on PORT (default 8080)
//   node --require ./tracing.js server.js --once   serve on a free port, call /checkout once,
//                                                  print trace_id=<hex> and exit

const http = require('node:http');
const crypto = require('node:crypto');
const api = require('@opentelemetry/api');

const tracer = api.trace.getTracer('polytrace-example-node', '0.1.0');
const PRICES = { apple: 120, pear: 95, fig: 310 };

function getJson(port, path) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode, body: JSON.parse(body) });
          } catch (e) {
            reject(e);
          }
        });
      })
      .on('error', reject);
  });
}

function handler(port) {
  return async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/health') return res.end('ok');
    if (url.pathname === '/price') {
      const item = url.searchParams.get('item');
      const price = PRICES[item];
      res.setHeader('content-type', 'application/json');
      res.statusCode = price === undefined ? 404 : 200;
      return res.end(JSON.stringify({ item, price }));
    }
    if (url.pathname !== '/checkout') {
      res.statusCode = 404;
      return res.end();
    }
    const items = (url.searchParams.get('items') || '').split(',').filter(Boolean);
    await tracer.startActiveSpan('checkout', async (span) => {
      try {
        span.setAttribute('app.items', items.length);
        if (items.length === 0) throw new RangeError('the cart is empty');
        let total = 0;
        for (const item of items) {
          const r = await getJson(port, `/price?item=${encodeURIComponent(item)}`);
          if (r.status !== 200) throw new Error(`no price for ${item}`);
          total += r.body.price;
        }
        const order = crypto.createHash('sha256').update(`${items.join(',')}:${total}`).digest('hex');
        span.addEvent('priced', { 'app.total_cents': total });
        span.setAttributes({ 'app.total_cents': total, 'app.order': order.slice(0, 16) });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ order: order.slice(0, 16), total, trace_id: span.spanContext().traceId }));
      } catch (e) {
        span.recordException(e);
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: e.message });
        res.statusCode = 400;
        res.end(JSON.stringify({ error: e.message, trace_id: span.spanContext().traceId }));
      } finally {
        span.end();
      }
    });
  };
}

function main() {
  const once = process.argv.includes('--once');
  const server = http.createServer();
  server.listen(once ? 0 : Number(process.env.PORT || 8080), '127.0.0.1', async () => {
    const { port } = server.address();
    server.on('request', handler(port));
    if (!once) {
      console.log(`listening on http://127.0.0.1:${port} (try /checkout?items=apple,fig)`);
      return;
    }
    const r = await getJson(port, '/checkout?items=apple,fig,pear');
    console.log(`trace_id=${r.body.trace_id}`);
    server.close();
    // Exiting normally: polytrace's exit hook exports what is queued.
  });
}

main();
