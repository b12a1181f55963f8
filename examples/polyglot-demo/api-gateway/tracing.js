'use strict';
// Loaded first (`node --require ./tracing.js gateway.js`): polytrace becomes the global
// OpenTelemetry tracer provider (configured by OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_EXPORTER_OTLP_* ...), then the official instrumentations of node:http and pino are turned
// on before either module is loaded.
const { TracerProvider } = require('polytrace');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { PinoInstrumentation } = require('@opentelemetry/instrumentation-pino');

const provider = new TracerProvider().register();

registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new HttpInstrumentation(), new PinoInstrumentation()],
});

module.exports = { provider };
