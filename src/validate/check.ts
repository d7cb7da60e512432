// The checks of one memory file, pure: the bytes in, the problems out.
// Non-empty; UTF-8 (text.ts); .json/.yaml/.yml parse; Markdown front matter
// parses where present; files matching a rule's glob satisfy its JSON Schema.
// Problems are `file:line:col: message`, lines and columns 1-based. YAML is
// parsed only where it must be (it is ~140x slower than JSON.parse, and needs
// ~150 bytes of memory per byte of text: hence YAML_DETAIL_MAX and YAML_MAX_BYTES).
import { LineCounter, parseAllDocuments, parseDocument, type Document } from 'yaml';
import { CORE_SCHEMA, load, loadAll } from 'js-yaml';
import { decodeText, jsonDepth, posOf, yamlDepth, YAML_DETAIL_MAX, YAML_MAX_BYTES } from './text.js';
import type { FileProblem } from './problem.js';

export type SchemaFn = ((data: unknown) => boolean) & {
  errors?: Array<{ instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }> | null;
};
export interface Rule {
  glob: string;
  match: (p: string) => boolean;
  validate: SchemaFn;
}

const extOf = (rel: string): string => {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
};
export const isYaml = (rel: string) => ['.yaml', '.yml'].includes(extOf(rel));

/** V8's JSON.parse messages differ between Node versions; keep the gist and find the position. */
function jsonProblem(text: string, e: Error): FileProblem {
  const msg = e.message;
  let offset: number | undefined;
  const m = /at position (\d+)/.exec(msg);
  if (m) offset = Number(m[1]);
  else if (/end of JSON input/i.test(msg)) offset = text.length;
  const gist = msg
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/ in JSON at position \d+/, '')
    .replace(/, "(?:[^"\\]|\\.)*"(?:\.\.\.)? is not valid JSON$/, '')
    .replace(/^Unexpected end of JSON input$/, 'unexpected end of input');
  const { line, col } = offset === undefined ? { line: 1, col: 1 } : posOf(text, offset);
  return { line, col, message: `invalid JSON: ${gist}` };
}

function yamlErrors(docs: Document[], lc: LineCounter, lineOffset: number): FileProblem[] {
  const out: FileProblem[] = [];
  for (const d of docs) {
    for (const e of [...d.errors, ...d.warnings]) {
      const { line, col } = lc.linePos(e.pos[0]);
      const gist = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      out.push({ line: line + lineOffset, col, message: `invalid YAML: ${gist}` });
    }
  }
  return out;
}

/** Where a schema error points: the YAML/JSON node of its instancePath, or the nearest existing parent. */
function nodePos(doc: Document | undefined, lc: LineCounter | undefined, path: string, lineOffset: number) {
  if (!doc || !lc) return { line: 1 + lineOffset, col: 1 };
  const segs = path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (let i = segs.length; i >= 0; i--) {
    const node = (i === 0 ? doc.contents : doc.getIn(segs.slice(0, i), true)) as { range?: number[] } | undefined;
    if (node && node.range) {
      const { line, col } = lc.linePos(node.range[0]!);
      return { line: line + lineOffset, col };
    }
  }
  return { line: 1 + lineOffset, col: 1 };
}

const allowed = (v: unknown) => (v as unknown[]).map((x) => JSON.stringify(x)).join(', ');

function describe(e: NonNullable<SchemaFn['errors']>[number]): string {
  const where = e.instancePath || '/';
  switch (e.keyword) {
    case 'required':
      return `${where} is missing required key '${String(e.params.missingProperty)}'`;
    case 'additionalProperties':
      return `${where} must NOT have additional property '${String(e.params.additionalProperty)}'`;
    case 'enum':
      return `${where} must be one of ${allowed(e.params.allowedValues)}`;
    default:
      return `${where} ${e.message ?? e.keyword}`;
  }
}

/**
 * The fast accept path: js-yaml (C-like speed next to yaml's ~1 MB/s, and far less memory) with the
 * YAML 1.2 core schema, duplicate keys refused, unknown tags refused. Only a file it accepts and that
 * no rule needs data from skips the yaml parser; anything it rejects goes through yaml, whose
 * messages and positions are the ones hactl reports.
 */
function quickYamlOk(text: string, multi: boolean): boolean {
  return !('problem' in jsYaml(text, multi, 0, ''));
}

/** js-yaml alone: the data (first document), or the problem at js-yaml's position. */
function jsYaml(
  text: string,
  multi: boolean,
  lineOffset: number,
  what: string,
): { data: unknown } | { problem: FileProblem } {
  try {
    if (!multi) return { data: text.trim() === '' ? {} : (load(text, { schema: CORE_SCHEMA }) ?? {}) };
    const docs = loadAll(text, null, { schema: CORE_SCHEMA });
    if (!docs.length) return { problem: { line: 1 + lineOffset, col: 1, message: `invalid ${what}: empty stream` } };
    return { data: docs[0] ?? null };
  } catch (e) {
    const x = e as { reason?: string; message: string; mark?: { line: number; column: number } };
    const at = x.mark
      ? { line: x.mark.line + 1 + lineOffset, col: x.mark.column + 1 }
      : { line: 1 + lineOffset, col: 1 };
    return { problem: { ...at, message: `invalid ${what}: ${x.reason ?? x.message.split('\n')[0]}` } };
  }
}

const YAML_OPTS = { prettyErrors: false, logLevel: 'error' as const, uniqueKeys: true };

function yamlGate(yamlText: string, lineOffset: number, what: string): FileProblem | null {
  if (yamlText.length > YAML_MAX_BYTES) {
    const kb = Math.round(yamlText.length / 1024);
    return {
      line: 1 + lineOffset,
      col: 1,
      message: `invalid ${what}: too large to check: ${kb} KB (hactl parses up to ${YAML_MAX_BYTES / 1024} KB of YAML)`,
    };
  }
  const d = yamlDepth(yamlText);
  return d ? { ...d, line: d.line + lineOffset, message: `invalid ${what}: ${d.message}` } : null;
}

/** The problems of one file's bytes. `rel` decides the parser (by extension) and the rules (by glob). */
export function checkBytes(rel: string, buf: Uint8Array, rules: Rule[]): FileProblem[] {
  const t = decodeText(buf);
  return 'problem' in t ? [t.problem] : checkText(rel, t.text, rules);
}

/** The problems of one file's text. */
export function checkText(rel: string, text: string, rules: Rule[]): FileProblem[] {
  if (text.trim() === '')
    return [{ line: 1, col: 1, message: text.length ? 'file is blank (whitespace only)' : 'file is empty' }];
  const ext = extOf(rel);
  const matching = rules.filter((r) => r.match(rel));
  let data: unknown;
  let doc: Document | undefined;
  let lc: LineCounter | undefined;
  let lineOffset = 0;
  let hasData = false;
  if (ext === '.json') {
    const d = jsonDepth(text);
    if (d) return [{ ...d, message: `invalid JSON: ${d.message}` }];
    try {
      data = JSON.parse(text);
      hasData = true;
    } catch (e) {
      return [jsonProblem(text, e as Error)];
    }
  } else if (ext === '.yaml' || ext === '.yml') {
    const gate = yamlGate(text, 0, 'YAML');
    if (gate) return [gate];
    if (text.length > YAML_DETAIL_MAX) return bigYaml(text, true, matching, 0, 'YAML');
    if (!matching.length && quickYamlOk(text, true)) return [];
    lc = new LineCounter();
    const docs = parseAllDocuments(text, { ...YAML_OPTS, lineCounter: lc });
    const list = Array.isArray(docs) ? docs : [];
    const errs = yamlErrors(list as Document[], lc, 0);
    if (!Array.isArray(docs)) errs.push({ line: 1, col: 1, message: 'invalid YAML: empty stream' });
    if (errs.length) return errs;
    if (matching.length) {
      doc = list[0] as Document | undefined;
      try {
        data = doc?.toJS({ maxAliasCount: 100 }) ?? null;
      } catch (e) {
        return [{ line: 1, col: 1, message: `invalid YAML: ${(e as Error).message}` }];
      }
      hasData = true;
    }
  } else if (ext === '.md' || ext === '.markdown') {
    const fm = /^---[ \t]*\r?\n/.exec(text);
    if (fm) {
      const body = text.slice(fm[0].length);
      const close = /^(?:---|\.\.\.)[ \t]*$/m.exec(body);
      if (!close)
        return [{ line: 1, col: 1, message: "front matter is not closed (no '---' line after the opening one)" }];
      const yamlText = body.slice(0, close.index);
      lineOffset = 1;
      const gate = yamlGate(yamlText, lineOffset, 'front matter');
      if (gate) return [gate];
      if (yamlText.length > YAML_DETAIL_MAX) return bigYaml(yamlText, false, matching, lineOffset, 'front matter');
      if (!matching.length && quickYamlOk(yamlText, false)) return [];
      lc = new LineCounter();
      doc = parseDocument(yamlText, { ...YAML_OPTS, lineCounter: lc });
      const errs = yamlErrors([doc], lc, lineOffset).map((p) => ({
        ...p,
        message: p.message.replace(/^invalid YAML/, 'invalid front matter'),
      }));
      if (errs.length) return errs;
      try {
        data = doc.toJS({ maxAliasCount: 100 }) ?? {};
      } catch (e) {
        return [{ line: 2, col: 1, message: `invalid front matter: ${(e as Error).message}` }];
      }
    } else data = {};
    hasData = true;
  }
  if (!hasData) return [];
  return schemaProblems(data, matching, (path) => {
    // JSON keeps no positions: parse it as YAML (a superset) only now, to point at the key.
    if (ext === '.json' && !doc && text.length <= YAML_DETAIL_MAX) {
      lc = new LineCounter();
      doc = parseDocument(text, { ...YAML_OPTS, lineCounter: lc });
    }
    return nodePos(doc, lc, path, lineOffset);
  });
}

/** Each matching rule's schema errors, at the position `where` finds for the instance path. */
function schemaProblems(data: unknown, matching: Rule[], where: (path: string) => { line: number; col: number }) {
  const out: FileProblem[] = [];
  for (const r of matching) {
    if (r.validate(data)) continue;
    for (const e of r.validate.errors ?? []) {
      out.push({ ...where(e.instancePath), message: `${describe(e)} (schema of rule '${r.glob}')` });
    }
  }
  return out;
}

/** YAML over YAML_DETAIL_MAX: js-yaml's verdict and data. It does not expand aliases (it shares them), so a
 * schema walk could go exponential: such a file with aliases is not checked against rules but reported. */
function bigYaml(text: string, multi: boolean, matching: Rule[], lineOffset: number, what: string): FileProblem[] {
  const r = jsYaml(text, multi, lineOffset, what);
  if ('problem' in r) return [r.problem];
  if (!matching.length) return [];
  if (/(?:^|[\s[{,:-])\*[^\s,[\]{}]/m.test(text)) {
    const kb = YAML_DETAIL_MAX / 1024;
    return [
      {
        line: 1 + lineOffset,
        col: 1,
        message: `invalid ${what}: aliases in YAML over ${kb} KB are not expanded for the rules`,
      },
    ];
  }
  return schemaProblems(r.data, matching, () => ({ line: 1 + lineOffset, col: 1 }));
}
