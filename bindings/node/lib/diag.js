'use strict';
// Diagnostics through @opentelemetry/api's `diag`, once per cause: a hot path that keeps
// hitting the same problem (an invalid attribute on every request) reports it once.

const { diag } = require('./api');

const seen = new Set();
const MAX_CAUSES = 1000;

/**
 * Reports `message` the first time `cause` is seen in this process.
 * @param {string} cause
 * @param {string} message
 * @param {'warn'|'error'} [level]
 */
function once(cause, message, level = 'warn') {
  if (seen.has(cause) || seen.size >= MAX_CAUSES) return;
  seen.add(cause);
  diag[level](`polytrace: ${message}`);
}

module.exports = { once, diag };
