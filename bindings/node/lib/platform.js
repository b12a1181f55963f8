'use strict';
// Where the native addon is looked for, shared by the loader (lib/native.js) and the npm
// install script (scripts/install.js). Dependency-free: the install script runs before
// anything is built.

const path = require('node:path');

/** The package's directory. */
const PKG_DIR = path.join(__dirname, '..');

/**
 * The napi-rs platform name of this process (`linux-x64-gnu`, `linux-x64-musl`,
 * `darwin-arm64`, `win32-x64-msvc`, ...), the suffix of the addon file and of the platform
 * package.
 * @returns {string}
 */
function platformName() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    let musl = false;
    try {
      const report = /** @type {any} */ (process.report && process.report.getReport());
      musl = !(report && report.header && report.header.glibcVersionRuntime);
    } catch {
      musl = false;
    }
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/**
 * The local build's file: `polytrace.<platform>.node` next to `index.js` (what the install
 * script and `npm run build` write).
 * @param {string} name a platform name
 */
function localAddon(name) {
  return path.join(PKG_DIR, `polytrace.${name}.node`);
}

/**
 * The prebuilt platform package's name, `polytrace-<platform>` (its `main` is the addon).
 * @param {string} name a platform name
 */
function platformPackage(name) {
  return `polytrace-${name}`;
}

module.exports = { PKG_DIR, platformName, localAddon, platformPackage };
