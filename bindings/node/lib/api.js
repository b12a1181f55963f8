'use strict';
// `@opentelemetry/api`, a peer dependency. Normally it resolves from this package. When the
// package is installed as a link to a source checkout (`npm install path/to/bindings/node`,
// npm's default for directories), Node resolves from the checkout's real path, where the
// application's copy is not visible: then it is taken from the application (the module that
// loaded polytrace, the working directory, the main module). Two copies of the API of the same
// major version share one global registry, so either copy works.

const path = require('node:path');

function load() {
  try {
    return require('@opentelemetry/api');
  } catch (e) {
    if (!e || e.code !== 'MODULE_NOT_FOUND') throw e;
  }
  const paths = [];
  let m = module.parent;
  while (m) {
    if (m.filename && !m.filename.startsWith(path.join(__dirname, '..') + path.sep)) {
      paths.push(path.dirname(m.filename));
      break;
    }
    m = m.parent;
  }
  paths.push(process.cwd());
  if (require.main && require.main.filename) paths.push(path.dirname(require.main.filename));
  try {
    return require(require.resolve('@opentelemetry/api', { paths }));
  } catch {
    const err = new Error(
      'polytrace: cannot find @opentelemetry/api (a peer dependency): install it next to polytrace (npm install @opentelemetry/api)',
    );
    // @ts-ignore
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
}

module.exports = load();
