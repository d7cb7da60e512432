#!/usr/bin/env node
// Fails when a source file under src/ is longer than 300 lines (issue 10), unless its
// opening comment says why, with the words "longer than 300 lines because ...".
// A file that long usually holds two jobs; the reason makes keeping it one a decision.
//   node scripts/check-file-length.mjs            # src/
//   node scripts/check-file-length.mjs DIR|FILE   # other places (the scratch tests of the gate)
// Exits 0 when every file passes, 1 otherwise, naming each file, its length and the fix.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const MAX_LINES = 300;
const REASON = /longer than 300 lines because\s*\S/i;
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

function* sourceFiles(path) {
  if (statSync(path).isFile()) {
    yield path;
    return;
  }
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(full);
    else if (SOURCE.test(entry.name)) yield full;
  }
}

// The opening comment: the // lines or the /* */ block before the first line of code (after a #! line).
export function openingComment(text) {
  const lines = text.split('\n');
  let i = lines[0]?.startsWith('#!') ? 1 : 0;
  while (i < lines.length && lines[i].trim() === '') i++;
  if (lines[i]?.trim().startsWith('/*')) {
    const end = text.indexOf('*/', text.indexOf('/*'));
    return end < 0 ? text : text.slice(text.indexOf('/*'), end);
  }
  const comment = [];
  for (; i < lines.length && lines[i].trim().startsWith('//'); i++) comment.push(lines[i]);
  return comment.join('\n');
}

export function countLines(text) {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

const roots = process.argv.length > 2 ? process.argv.slice(2) : ['src'];
const failures = [];
for (const root of roots) {
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const lines = countLines(text);
    if (lines > MAX_LINES && !REASON.test(openingComment(text))) failures.push({ file, lines });
  }
}
for (const { file, lines } of failures) {
  console.error(
    `${relative(process.cwd(), file)}: ${lines} lines, more than ${MAX_LINES}: split it by job, ` +
      `or say why in its opening comment ("longer than ${MAX_LINES} lines because ...")`,
  );
}
if (failures.length > 0) {
  console.error(`check-file-length: ${failures.length} file(s) too long`);
  process.exit(1);
}
