'use strict';
// Loaded first (`node --require ./tracing.js server.js`): installs polytrace as the global
// OpenTelemetry tracer provider and turns on the HTTP instrumentation before `http` is loaded.
// Everything else comes from the OTEL_* environment, e.g.
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_SERVICE_NAME=checkout

const { TracerProvider } = require('polytrace');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');

const provider = new TracerProvider({
  // An explicit option wins over OTEL_SERVICE_NAME; leave it out to configure by environment.
  serviceName: process.env.OTEL_SERVICE_NAME || 'node-quickstart',
}).register();

registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => req.url === '/health' })],
});

// A graceful stop exports what is queued (a normal exit does too, through polytrace's exit hook).
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    provider.shutdown().finally(() => process.exit(0));
  });
}

module.exports = { provider };
