// YAML text -> a document and its plain data, or one line per problem at file:line:col.
// Guards what a hostile file can do to the parser: nesting past MAX_DEPTH (the parser
// recurses and would overflow the stack), alias expansion (billion laughs), several
// documents in one file, and keys repeated thousands of times (yaml's own uniqueKeys
// check is quadratic: 11 s for 30,000 keys, so duplicates are found here in one pass). Pure.
import { isMap, isScalar, Lexer, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { ConfigError } from '../errors.js';

/** A real config nests about 8 levels; inline JSON Schemas and probe bodies a few more. */
export const MAX_DEPTH = 64;
/** Alias expansions allowed while building the data (yaml's own guard, kept low). */
const MAX_ALIAS_COUNT = 100;
/** As MAX_PROBLEMS in parse.ts: the first lines, then a count. */
const MAX_LINES = 50;

export interface ParsedYaml {
  doc: Document;
  data: unknown;
  /** "file:line:col" of a character offset (1:1 when unknown). */
  at: (offset: number | undefined) => string;
}

// The lexer's zero-width markers (document start, scalar start...) are control characters.
// eslint-disable-next-line no-control-regex -- matching those control characters is the point
const MARKER = /^[\u0000-\u0009\u000b-\u001f]$/;

/** The first offset where collections nest deeper than max levels, by flow brackets and block indentation. */
export function tooDeep(text: string, max = MAX_DEPTH): number | undefined {
  let offset = 0;
  let flow = 0;
  const indents: number[] = [];
  let lineStart = true;
  for (const tok of new Lexer().lex(text)) {
    if (tok === '[' || tok === '{') flow++;
    else if (tok === ']' || tok === '}') flow = Math.max(0, flow - 1);
    else if (lineStart && flow === 0 && /^ +$/.test(tok)) {
      while (indents.length && indents[indents.length - 1]! >= tok.length) indents.pop();
      indents.push(tok.length);
    } else if (lineStart && flow === 0 && tok !== '\n' && !MARKER.test(tok)) indents.length = 0;
    if (flow + indents.length > max) return offset;
    if (!MARKER.test(tok)) offset += tok.length;
    if (tok === '\n') lineStart = true;
    else if (!MARKER.test(tok)) lineStart = false;
  }
  return undefined;
}

function say(message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (first.startsWith('Source contains multiple documents')) {
    return 'the file holds more than one YAML document (---); hactl reads one';
  }
  if (first.startsWith('Maximum call stack')) return `the YAML nests too deeply (more than ${MAX_DEPTH} levels)`;
  return first;
}

export function readYaml(text: string, file: string): ParsedYaml {
  const lc = new LineCounter();
  const at = (offset: number | undefined) => {
    if (offset === undefined) return `${file}:1:1`;
    const { line, col } = lc.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const deep = tooDeep(text);
  if (deep !== undefined) {
    const before = text.slice(0, deep);
    const line = before.split('\n').length;
    const col = deep - before.lastIndexOf('\n');
    throw new ConfigError([`${file}:${line}:${col}: the YAML nests too deeply (more than ${MAX_DEPTH} levels)`]);
  }
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, logLevel: 'error', uniqueKeys: false });
  } catch (e) {
    throw new ConfigError([`${file}:1:1: cannot parse the YAML: ${say((e as Error).message)}`]);
  }
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    const line = `${at(e.pos[0])}: ${say(e.message)}`;
    const key = say(e.message).startsWith('the YAML nests') ? 'deep' : line;
    if (!seen.has(key)) problems.push(line);
    seen.add(key);
  }
  const dups = duplicateKeys(doc).sort((a, b) => (a.offset ?? 0) - (b.offset ?? 0));
  const where = (offset: number | undefined) => at(offset).slice(file.length + 1);
  for (const { offset, key, first } of dups) {
    problems.push(`${at(offset)}: duplicate key '${key}' (first at ${where(first)})`);
  }
  if (problems.length > MAX_LINES) {
    const rest = problems.length - MAX_LINES;
    problems.splice(MAX_LINES, Infinity, `${file}: ... and ${rest} more problems (fix these first)`);
  }
  if (problems.length) throw new ConfigError(problems);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const msg = (e as Error).message;
    const bomb = `aliases expand too much (more than ${MAX_ALIAS_COUNT}); write the values out`;
    const why = /alias count/i.test(msg) ? bomb : say(msg);
    throw new ConfigError([`${file}:1:1: ${why}`]);
  }
  return { doc, data, at };
}

type Duplicate = { offset: number | undefined; key: string; first: number | undefined };

/** Keys repeated in one map, in one pass. */
function duplicateKeys(doc: Document): Duplicate[] {
  const out: Duplicate[] = [];
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Map<string, number | undefined>();
      for (const pair of map.items) {
        const k = pair.key;
        const id = isScalar(k) ? `${typeof k.value}:${String(k.value)}` : `node:${String(k)}`;
        const offset = (k as { range?: [number] } | null)?.range?.[0];
        const key = (isScalar(k) ? String(k.value) : String(k)).slice(0, 60);
        if (seen.has(id)) out.push({ offset, key, first: seen.get(id) });
        else seen.set(id, offset);
      }
    },
  });
  return out;
}
