// npm's `prepare` hook: an install from git (npm install -g git+https://...)
// gets a built dist/. npm installs the dev dependencies for it; an install that
// omits them (npm ci --omit=dev) on a checkout that is already built keeps the
// existing dist/ instead of failing.
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const root = fileURLToPath(new URL('..', import.meta.url));
// The build needs typescript (type check, dist/) and esbuild (dist/bundle/, what bin/hactl runs).
const tools = ['typescript', 'esbuild'].filter((t) => !existsSync(`${root}node_modules/${t}`));
if (tools.length) {
  if (existsSync(`${root}dist/bundle/cli.js`)) {
    console.error(`prepare: ${tools.join(', ')} not installed (dev dependencies omitted); keeping the existing dist/`);
    process.exit(0);
  }
  console.error(`prepare: cannot build: ${tools.join(', ')} not installed; run npm install without --omit=dev`);
  process.exit(1);
}
execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
