#!/usr/bin/env node
'use strict';
// npm `install` script: makes sure a native addon is there.
//
// 1. A prebuilt addon is used as is: `polytrace.<platform>.node` in the package, or the
//    platform package `polytrace-<platform>` (see README.md, "Prebuilt binaries").
// 2. Otherwise the addon is built from source with the machine's Rust toolchain:
//    `cargo build --release -p polytrace-node` in the polytrace workspace this package sits in,
//    and the library is copied to `polytrace.<platform>.node`.
//
// Environment:
//   POLYTRACE_SKIP_BUILD=1     do nothing (CI steps that build separately)
//   POLYTRACE_FORCE_BUILD=1    build even if an addon is present (cargo rebuilds only what changed)
//   POLYTRACE_CARGO_FEATURES   extra crate features (e.g. `testing`)
//   POLYTRACE_OUT              where to copy the library (default: the package's addon path)
//   CARGO_TARGET_DIR, CARGO    as for cargo

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { PKG_DIR: pkgDir, platformName, localAddon, platformPackage } = require('../lib/platform');

function log(msg) {
  process.stderr.write(`polytrace: ${msg}\n`);
}

function prebuilt(name, target) {
  if (fs.existsSync(target)) return target;
  try {
    return require.resolve(platformPackage(name), { paths: [pkgDir] });
  } catch {
    return undefined;
  }
}

function findCargo() {
  const candidates = [];
  if (process.env.CARGO) candidates.push(process.env.CARGO);
  candidates.push('cargo');
  candidates.push(path.join(os.homedir(), '.cargo', 'bin', process.platform === 'win32' ? 'cargo.exe' : 'cargo'));
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return undefined;
}

/** The workspace root: the nearest parent with a Cargo.toml that has `[workspace]`. */
function workspaceRoot() {
  let dir = pkgDir;
  for (;;) {
    const manifest = path.join(dir, 'Cargo.toml');
    if (dir !== pkgDir && fs.existsSync(manifest) && /^\[workspace\]/m.test(fs.readFileSync(manifest, 'utf8'))) {
      return dir;
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function main() {
  if (process.env.POLYTRACE_SKIP_BUILD) return 0;
  const name = platformName();
  const target = process.env.POLYTRACE_OUT
    ? path.resolve(process.env.POLYTRACE_OUT)
    : localAddon(name);
  const force = !!process.env.POLYTRACE_FORCE_BUILD;
  const found = !force && prebuilt(name, target);
  if (found) {
    log(`using the native addon ${path.relative(process.cwd(), found) || found}`);
    return 0;
  }
  const root = workspaceRoot();
  if (!fs.existsSync(path.join(pkgDir, 'Cargo.toml')) || root === undefined) {
    log(
      `no prebuilt addon for ${name}, and no polytrace source tree to build one from. ` +
        `Install from a polytrace checkout (npm install path/to/polytrace/bindings/node) or install ${platformPackage(name)}.`,
    );
    return 1;
  }
  const cargo = findCargo();
  if (cargo === undefined) {
    log(`no prebuilt addon for ${name} and no Rust toolchain (cargo) on PATH: install Rust (https://rustup.rs) and reinstall.`);
    return 1;
  }
  const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
  const args = ['build', '--release', '-p', 'polytrace-node'];
  if (process.env.POLYTRACE_CARGO_FEATURES) args.push('--features', process.env.POLYTRACE_CARGO_FEATURES);
  log(`building the native addon: ${cargo} ${args.join(' ')} (in ${root})`);
  const r = spawnSync(cargo, args, {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CARGO_TARGET_DIR: targetDir },
  });
  if (r.status !== 0) {
    log(`cargo failed (${r.error ? r.error.message : `exit ${r.status}`})`);
    return 1;
  }
  const lib =
    process.platform === 'win32'
      ? 'polytrace_node.dll'
      : process.platform === 'darwin'
        ? 'libpolytrace_node.dylib'
        : 'libpolytrace_node.so';
  const built = path.join(targetDir, 'release', lib);
  // Copy through a temporary name, then rename: a running process that has the old file
  // loaded keeps its mapping.
  const tmp = `${target}.tmp-${process.pid}`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(built, tmp);
  fs.renameSync(tmp, target);
  log(`installed ${target}`);
  return 0;
}

process.exitCode = main();
