'use strict';
// `npm install path/to/bindings/node` from another directory: the install script finds the
// addon (test.sh has just built it through the same script with cargo: `polytrace: building
// the native addon`), the loader finds it, and the peer dependency resolves from the
// application.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { PKG, tmpdir, readSpans } = require('./helpers');

function npm(args, cwd, env = {}) {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600000 });
  return r;
}

test('npm install ./bindings/node into an application, then trace with it', { timeout: 900000 }, () => {
  const app = tmpdir('polytrace-app-');
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const env = { POLYTRACE_NATIVE_PATH: '', npm_config_omit_lockfile_registry_resolved: 'true' };
  const api = require(path.join(PKG, 'node_modules', '@opentelemetry', 'api', 'package.json'));
  const r = npm(['install', '--foreground-scripts', '--prefer-offline', '--no-audit', '--no-fund', PKG, `@opentelemetry/api@${api.version}`], app, env);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /polytrace: (building the native addon|using the native addon)/);
  assert.ok(fs.existsSync(path.join(app, 'node_modules', 'polytrace')));
  const out = path.join(app, 'spans.jsonl');
  const script = `
    const api = require('@opentelemetry/api');
    const { TracerProvider } = require('polytrace');
    const p = new TracerProvider({ exporter: 'file', filePath: ${JSON.stringify(out)}, serviceName: 'installed' }).register();
    api.trace.getTracer('app').startActiveSpan('from-an-installed-package', (s) => s.end());
  `;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8', env: { ...process.env, POLYTRACE_NATIVE_PATH: '' } });
  assert.equal(run.status, 0, run.stderr);
  const spans = readSpans(out);
  assert.deepEqual(spans.map((s) => s.name), ['from-an-installed-package']);
  assert.equal(spans[0].resource['service.name'], 'installed');
});
