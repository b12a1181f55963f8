'use strict';
// Loads the native addon: a local build (`polytrace.<platform>.node`, made by the install
// script or `npm run build`), else the prebuilt platform package `polytrace-<platform>`
// (see README.md, "Prebuilt binaries"). POLYTRACE_NATIVE_PATH overrides both (tests, debugging).

const path = require('node:path');
const fs = require('node:fs');
const { platformName, localAddon, platformPackage } = require('./platform');

function load() {
  const name = platformName();
  const tried = [];
  const override = process.env.POLYTRACE_NATIVE_PATH;
  if (override) return require(path.resolve(override));
  const local = localAddon(name);
  tried.push(local);
  if (fs.existsSync(local)) return require(local);
  const pkg = platformPackage(name);
  tried.push(pkg);
  try {
    return require(pkg);
  } catch (e) {
    if (e && e.code !== 'MODULE_NOT_FOUND') throw e;
  }
  const err = new Error(
    `polytrace: no native addon for ${name} (tried ${tried.join(', ')}). ` +
      'Reinstall the package with a Rust toolchain on PATH (the install script builds it with cargo), ' +
      `or install the prebuilt package ${pkg}.`,
  );
  err.code = 'MODULE_NOT_FOUND';
  throw err;
}

module.exports = load();
module.exports.platformName = platformName;
