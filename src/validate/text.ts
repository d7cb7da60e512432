// Before any parser sees a file: is it UTF-8 text (a BOM is tolerated and
// dropped), and how deep does it nest? Parsers recurse; a file nested a few
// thousand levels deep exhausts the stack or the memory of the process, so it
// is refused here, by a linear scan, as invalid. Pure: no I/O.

export interface TextProblem {
  line: number;
  col: number;
  message: string;
}

/** YAML text above this is not parsed (js-yaml needs ~20 bytes of memory per byte); the file is reported. */
export const YAML_MAX_BYTES = 1024 * 1024;
/** YAML text up to this goes through yaml for its messages and positions (~150 bytes per byte); above, js-yaml's. */
export const YAML_DETAIL_MAX = 64 * 1024;

/** Deeper than this, a memory file is refused (real ones nest a handful of levels). */
export const MAX_DEPTH = 100;

const utf8 = new TextDecoder('utf-8', { fatal: true }); // drops one leading BOM

/** The file's text, or why it is not UTF-8 text. */
export function decodeText(buf: Uint8Array): { text: string } | { problem: TextProblem } {
  const at = (message: string) => ({ problem: { line: 1, col: 1, message } });
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
    return at('file is UTF-16 (it has a UTF-16 byte order mark); memory files must be UTF-8');
  }
  let text: string;
  try {
    text = utf8.decode(buf);
  } catch {
    return at('file is not valid UTF-8 text; memory files must be UTF-8');
  }
  const nul = text.indexOf('\0');
  if (nul >= 0)
    return {
      problem: {
        ...posOf(text, nul),
        message: 'file contains a NUL byte (UTF-16 or binary?); memory files must be UTF-8 text',
      },
    };
  return { text };
}

/** Line and column (1-based) of a character offset. */
export function posOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  const end = Math.min(Math.max(0, offset), text.length);
  for (let i = 0; i < end; i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  return { line, col: end - last };
}

const deep = (text: string, offset: number): TextProblem => ({
  ...posOf(text, offset),
  message: `nested deeper than ${MAX_DEPTH} levels; hactl does not parse it (a memory file never needs that)`,
});

/** JSON: brackets outside strings. */
export function jsonDepth(text: string, limit = MAX_DEPTH): TextProblem | null {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 91 || c === 123) {
      if (++depth > limit) return deep(text, i);
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return null;
}

/**
 * YAML: block nesting (a stack of indentations, plus `- ` indicators on a line) and flow brackets.
 * Block scalar bodies (after `|` or `>`) are skipped. Quotes are not tracked: a bracket inside a
 * quoted string counts too, so this errs towards refusing only pathological files.
 */
export function yamlDepth(text: string, limit = MAX_DEPTH): TextProblem | null {
  const stack: number[] = [];
  let flow = 0;
  let scalarIndent = -1; // inside a block scalar deeper than this indentation
  let offset = 0;
  for (const line of text.split('\n')) {
    const start = offset;
    offset += line.length + 1;
    const body = line.replace(/^[ \t]*/, '');
    const indent = line.length - body.length;
    if (body === '' || body.startsWith('#')) continue;
    if (scalarIndent >= 0) {
      if (indent > scalarIndent) continue;
      scalarIndent = -1;
    }
    if (flow === 0) {
      while (stack.length && stack[stack.length - 1]! >= indent) stack.pop();
      stack.push(indent);
    }
    const dashes = /^(?:-[ \t]+)*/.exec(body)![0].replace(/[ \t]/g, '').length;
    if (flow === 0 && stack.length + dashes > limit) return deep(text, start + indent);
    for (let i = 0; i < body.length; i++) {
      const c = body.charCodeAt(i);
      if (c === 35 && i > 0 && /[ \t]/.test(body[i - 1]!)) break; // a comment
      if (c === 91 || c === 123) {
        if (stack.length + dashes + ++flow > limit) return deep(text, start + indent + i);
      } else if ((c === 93 || c === 125) && flow > 0) flow--;
    }
    if (/(?:^|[:\-?][ \t]+|^[ \t]*)[|>][0-9+-]*[ \t]*(?:#.*)?$/.test(body)) scalarIndent = indent;
  }
  return null;
}
