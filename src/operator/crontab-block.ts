// hactl's block in the user's crontab: put it in, replace it, take it out,
// and leave every other line as it was. Pure: text in, text out.
//
// - No crontab: the block alone.
// - Other lines: the block goes after them (a blank line between), theirs unchanged.
// - An old block (or several, from hand edits): the first is replaced in place,
//   the others removed.
// - A BEGIN without an END: refused. Guessing where hactl's lines end could
//   delete the user's own lines; the message says how to fix it by hand.
// - CRLF line ends are recognised around the markers; the user's lines keep
//   theirs, hactl's lines end in LF (cron would read a CR as part of the command).

export const BEGIN = '# BEGIN hactl (managed; hactl cron --remove to delete)';
export const END = '# END hactl';

export type MergeResult = { ok: true; text: string; changed: boolean; notes: string[] } | { ok: false; error: string };

const isBegin = (l: string) => /^# BEGIN hactl\b/.test(l.trim());
const isEnd = (l: string) => /^# END hactl\s*$/.test(l.trim());

interface Span {
  from: number;
  to: number;
} // line indexes, inclusive

function findBlocks(lines: string[]): Span[] | string {
  const spans: Span[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (isEnd(lines[i]!)) return `line ${i + 1} has '${END}' without a '# BEGIN hactl' line before it`;
    if (!isBegin(lines[i]!)) continue;
    let j = i + 1;
    while (j < lines.length && !isEnd(lines[j]!)) {
      if (isBegin(lines[j]!))
        return `line ${i + 1} opens hactl's block and line ${j + 1} opens another before '${END}'`;
      j++;
    }
    if (j === lines.length) return `line ${i + 1} has '# BEGIN hactl' but no '${END}' after it`;
    spans.push({ from: i, to: j });
    i = j;
  }
  return spans;
}

/**
 * block: hactl's lines (without markers) to install, or null to remove the block.
 * Returns the new crontab text, always ending in a newline (cron ignores a last line without one).
 */
export function mergeCrontab(existing: string, block: string[] | null): MergeResult {
  const notes: string[] = [];
  const body = existing.endsWith('\n') ? existing.slice(0, -1) : existing;
  const lines = existing === '' ? [] : body.split('\n');
  if (lines.some((l) => l.endsWith('\r')))
    notes.push("your crontab has CRLF line ends: cron reads the CR as part of a command; hactl's lines use LF");
  const spans = findBlocks(lines);
  if (typeof spans === 'string') {
    return {
      ok: false,
      error:
        `crontab: ${spans}; fix it with crontab -e ` +
        `(hactl's block is every line from '# BEGIN hactl' to '${END}'), then run again`,
    };
  }
  const ours = block === null ? [] : [BEGIN, ...block, END];
  const out: string[] = [];
  let placed = false;
  let last = 0;
  for (const s of spans) {
    out.push(...lines.slice(last, s.from));
    if (!placed) {
      out.push(...ours);
      placed = true;
    }
    last = s.to + 1;
  }
  out.push(...lines.slice(last));
  if (!placed && ours.length) {
    while (out.length && out[out.length - 1]!.trim() === '') out.pop();
    if (out.length) out.push('');
    out.push(...ours);
  }
  if (block === null && spans.length) {
    // What install added (one blank line before a block at the end) goes with it.
    while (out.length && out[out.length - 1]!.trim() === '') out.pop();
  }
  const text = out.length ? out.join('\n') + '\n' : '';
  if (spans.length > 1) notes.push(`${spans.length} hactl blocks were found; one is left`);
  return { ok: true, text, changed: text !== existing, notes };
}

const OPTIONS = '# hactl cron options: ';

/** The block's line that keeps the options given to `hactl cron --install` (--log-dir, --bin, --env-file). */
export function optionsLine(options: Record<string, string>): string {
  return OPTIONS + JSON.stringify(options);
}

/** The options the crontab's hactl block was installed with ({} when none, or no block). */
export function rememberedOptions(crontab: string): Record<string, string> {
  for (const line of crontab.split('\n')) {
    if (!line.startsWith(OPTIONS)) continue;
    try {
      const v: unknown = JSON.parse(line.slice(OPTIONS.length));
      if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
      return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch {
      return {};
    }
  }
  return {};
}
