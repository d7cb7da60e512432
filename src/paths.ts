// Where hactl's own files are (bin/, schema/, dist/validators/, the example config), the same
// whichever way the code runs: tsc's per-module dist/*.js (this file is dist/paths.js), the
// bundle bin/hactl runs (its chunks sit flat in dist/bundle/: scripts/bundle.mjs), or the
// sources under tsx (src/paths.ts). One helper instead of '../../' counted per file.
const here = new URL('.', import.meta.url);

/** The package root (a directory URL, ending in '/'). */
export const PACKAGE_ROOT = new URL(here.pathname.endsWith('/dist/bundle/') ? '../../' : '../', here);

/** A file of the package, by its path from the package root (e.g. 'dist/validators/hactl.cjs'). */
export const packageFile = (rel: string): URL => new URL(rel, PACKAGE_ROOT);
