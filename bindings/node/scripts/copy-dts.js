'use strict';
// After `tsc -p tsconfig.dts.json`: index.d.ts is the declaration of index.js alone (the lib/
// modules are private), so only that file is kept, at the package root.
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
const out = process.argv[2] || path.join(root, 'index.d.ts');
fs.copyFileSync(path.join(root, 'build', 'types', 'index.d.ts'), out);
