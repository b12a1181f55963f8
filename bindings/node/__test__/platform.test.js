'use strict';
// The prebuilt-binary layout (README.md, "Prebuilt binaries"), for this machine's platform and
// without the network: `napi create-npm-dirs` (the pinned @napi-rs/cli) makes the per-platform
// package directories from package.json's `napi` targets; this platform's gets the locally
// built addon; the packages are packed and installed offline (a fresh npm cache) into an
// application that lists the platform packages as optionalDependencies, as the published
// `polytrace` does. npm installs only the matching one (os/cpu/libc), polytrace's install
// script uses it instead of building, and the loader loads it.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { PKG, tmpdir, readSpans } = require('./helpers');
const { platformName, localAddon, platformPackage } = require('../lib/platform');

const pkgJson = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8'));
/** napi-rs platform names of package.json's targets. */
const TARGET_PLATFORMS = {
  'x86_64-unknown-linux-gnu': ['linux-x64-gnu', 'linux', 'x64', 'glibc'],
  'aarch64-unknown-linux-gnu': ['linux-arm64-gnu', 'linux', 'arm64', 'glibc'],
  'x86_64-unknown-linux-musl': ['linux-x64-musl', 'linux', 'x64', 'musl'],
  'aarch64-apple-darwin': ['darwin-arm64', 'darwin', 'arm64', undefined],
  'x86_64-apple-darwin': ['darwin-x64', 'darwin', 'x64', undefined],
  'x86_64-pc-windows-msvc': ['win32-x64-msvc', 'win32', 'x64', undefined],
};

function run(cmd, args, cwd, env = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, POLYTRACE_NATIVE_PATH: '', npm_config_update_notifier: 'false', ...env },
    timeout: 300000,
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** `npm pack dir` into `dest`; returns the tarball's path. */
function pack(dir, dest) {
  const r = run('npm', ['pack', '--json', '--pack-destination', dest, dir], dest);
  const [info] = JSON.parse(r.stdout);
  return path.join(dest, info.filename);
}

test('per-platform packages: layout, offline install of this platform, loaded by polytrace', { timeout: 600000 }, () => {
  const name = platformName();
  const addon = localAddon(name);
  assert.ok(fs.existsSync(addon), `the local build ${addon} is missing (test.sh builds it)`);
  const work = tmpdir('polytrace-platform-');

  // 1. The package directories, from package.json's napi targets.
  const stage = path.join(work, 'stage');
  fs.mkdirSync(stage);
  fs.copyFileSync(path.join(PKG, 'package.json'), path.join(stage, 'package.json'));
  const napi = path.join(PKG, 'node_modules', '.bin', 'napi');
  run(napi, ['create-npm-dirs', '--cwd', stage, '--npm-dir', 'npm'], PKG);
  for (const target of pkgJson.napi.targets) {
    const [platform, os, cpu, libc] = TARGET_PLATFORMS[target];
    const m = JSON.parse(fs.readFileSync(path.join(stage, 'npm', platform, 'package.json'), 'utf8'));
    assert.equal(m.name, platformPackage(platform), target);
    assert.equal(m.version, pkgJson.version);
    assert.equal(m.main, `${pkgJson.napi.binaryName}.${platform}.node`);
    assert.deepEqual(m.files, [m.main]);
    assert.deepEqual(m.os, [os]);
    assert.deepEqual(m.cpu, [cpu]);
    assert.deepEqual(m.libc, libc === undefined ? undefined : [libc]);
  }
  const own = path.join(stage, 'npm', name);
  assert.ok(fs.existsSync(own), `package.json's napi targets include this platform (${name})`);
  const ownMain = JSON.parse(fs.readFileSync(path.join(own, 'package.json'), 'utf8')).main;
  fs.copyFileSync(addon, path.join(own, ownMain));

  // 2. Tarballs: polytrace (without any addon), this platform's package, a foreign platform's
  //    package, and the API (the application's peer dependency), all from local files.
  const tarballs = path.join(work, 'tarballs');
  fs.mkdirSync(tarballs);
  const foreign = name.startsWith('darwin-') ? 'linux-x64-gnu' : 'darwin-arm64';
  const root = pack(PKG, tarballs);
  const listed = run('tar', ['-tzf', root], tarballs).stdout.split('\n');
  assert.ok(listed.includes('package/lib/platform.js'), 'the loader ships');
  assert.ok(!listed.some((f) => f.endsWith('.node')), `the root package carries no addon: ${listed.filter((f) => f.endsWith('.node'))}`);
  const ownTgz = pack(own, tarballs);
  const foreignTgz = pack(path.join(stage, 'npm', foreign), tarballs);
  const apiTgz = pack(path.join(PKG, 'node_modules', '@opentelemetry', 'api'), tarballs);

  // 3. Offline install with an empty cache: nothing can come from a registry.
  const app = path.join(work, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({
      name: 'app',
      version: '1.0.0',
      private: true,
      dependencies: { polytrace: `file:${root}`, '@opentelemetry/api': `file:${apiTgz}` },
      optionalDependencies: { [platformPackage(name)]: `file:${ownTgz}`, [platformPackage(foreign)]: `file:${foreignTgz}` },
    }),
  );
  const installed = run(
    'npm',
    ['install', '--offline', '--foreground-scripts', '--no-audit', '--no-fund', '--cache', path.join(work, 'npm-cache')],
    app,
  );
  const log = `${installed.stdout}\n${installed.stderr}`;
  assert.match(log, new RegExp(`polytrace: using the native addon .*${platformPackage(name)}`), log);
  assert.doesNotMatch(log, /building the native addon/);
  const nm = path.join(app, 'node_modules');
  assert.ok(fs.existsSync(path.join(nm, platformPackage(name), ownMain)));
  assert.ok(!fs.existsSync(path.join(nm, platformPackage(foreign))), 'npm skips the other platform (os/cpu)');
  assert.ok(!fs.lstatSync(path.join(nm, 'polytrace')).isSymbolicLink(), 'installed as a copy, not a link to the checkout');
  assert.ok(!fs.existsSync(path.join(nm, 'polytrace', `polytrace.${name}.node`)), 'no local build in the installed package');

  // 4. The loader takes the platform package's addon.
  const out = path.join(work, 'spans.jsonl');
  const script = `
    const api = require('@opentelemetry/api');
    const { TracerProvider } = require('polytrace');
    const addons = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
    console.log(JSON.stringify(addons));
    const p = new TracerProvider({ exporter: 'file', filePath: ${JSON.stringify(out)}, serviceName: 'prebuilt' });
    p.getTracer('app').startSpan('from-the-platform-package').end();
    p.shutdown();
  `;
  const r = run(process.execPath, ['-e', script], app);
  const addons = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.deepEqual(addons, [fs.realpathSync(path.join(nm, platformPackage(name), ownMain))]);
  const spans = readSpans(out);
  assert.deepEqual(
    spans.map((s) => s.name),
    ['from-the-platform-package'],
  );
  assert.equal(spans[0].resource['service.name'], 'prebuilt');
  fs.rmSync(work, { recursive: true, force: true });
});
