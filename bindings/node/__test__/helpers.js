'use strict';
// Shared test helpers: the workspace's OTLP receiver (`polytrace receive`), reading what it
// received, and running scripts in child processes.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const PKG = path.join(__dirname, '..');
const ROOT = path.join(PKG, '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');

/** The `polytrace` CLI (built by test.sh: `cargo build -p polytrace-cli`). */
function cliPath() {
  const p = process.env.POLYTRACE_CLI || path.join(TARGET, 'debug', 'polytrace');
  if (!fs.existsSync(p)) throw new Error(`the polytrace CLI is missing at ${p}: run cargo build -p polytrace-cli`);
  return p;
}

function tmpdir(prefix = 'polytrace-node-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Starts `polytrace receive` on loopback with free ports.
 * @returns {Promise<{http: string, grpc: string, file: string, stderr: () => string, stop: () => Promise<void>, spans: () => any[], waitForSpans: (n: number, ms?: number) => Promise<any[]>}>}
 */
function startReceiver(extraArgs = []) {
  const dir = tmpdir('polytrace-recv-');
  const file = path.join(dir, 'received.jsonl');
  const child = spawn(cliPath(), ['receive', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--out', file, ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver did not start: ${err}`)), 20000);
    child.stderr.on('data', (d) => {
      err += d.toString();
      const m = /listening grpc=(\S+) http=(\S+)/.exec(err);
      if (m && timer) {
        clearTimeout(timer);
        const r = {
          http: `http://${m[2]}`,
          grpc: `http://${m[1]}`,
          file,
          stderr: () => err,
          stop: () =>
            new Promise((res) => {
              if (child.exitCode !== null) return res();
              child.once('exit', () => res());
              child.kill('SIGTERM');
            }),
          spans: () => readSpans(file),
          waitForSpans: async (n, ms = 15000) => {
            const deadline = Date.now() + ms;
            for (;;) {
              const s = readSpans(file);
              if (s.length >= n || Date.now() > deadline) return s;
              await new Promise((res) => setTimeout(res, 50));
            }
          },
        };
        resolve(r);
      }
    });
    child.once('exit', (code) => reject(new Error(`receiver exited (${code}): ${err}`)));
  });
}

/**
 * Every span in an OTLP/JSON lines file, flattened with its resource and scope.
 * @param {string} file
 */
function readSpans(file) {
  if (!fs.existsSync(file)) return [];
  const out = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch {
      continue; // a line being written
    }
    for (const rs of req.resourceSpans || []) {
      const resource = attrs(rs.resource && rs.resource.attributes);
      for (const ss of rs.scopeSpans || []) {
        for (const s of ss.spans || []) {
          out.push({ ...s, attrs: attrs(s.attributes), resource, scope: ss.scope || {} });
        }
      }
    }
  }
  return out;
}

/** OTLP key-values as a plain object (values unwrapped). */
function attrs(list) {
  const o = {};
  for (const kv of list || []) o[kv.key] = value(kv.value || {});
  return o;
}

function value(v) {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values || []).map(value);
  return undefined;
}

/**
 * Runs `node -e script` (or a file) with the package resolvable, returns {status, stdout, stderr, ms}.
 */
function runNode(args, { env = {}, cwd = PKG, timeout = 60000 } = {}) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** A loopback port with nothing listening: connections to it are refused. */
async function closedPort() {
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  return port;
}

/**
 * A server that accepts connections and never answers; closed when the test `t` ends.
 * @returns {Promise<number>} its port
 */
async function silentBackend(t) {
  const sockets = [];
  const server = net.createServer((s) => sockets.push(s));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return server.address().port;
}

/** A provider exporting to a fresh file (OTLP JSON lines), plus a reader. */
function fileProvider(TracerProvider, options = {}) {
  const dir = tmpdir();
  const file = path.join(dir, 'spans.jsonl');
  const provider = new TracerProvider({ exporter: 'file', filePath: file, serviceName: 'node-test', ...options });
  return { provider, file, spans: () => readSpans(file) };
}

module.exports = {
  PKG,
  ROOT,
  TARGET,
  cliPath,
  tmpdir,
  startReceiver,
  readSpans,
  attrs,
  runNode,
  fileProvider,
  closedPort,
  silentBackend,
};
