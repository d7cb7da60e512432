// Reading rsync's itemized output (-i --stats): which regular files were sent,
// created and deleted, and the totals; and the one wording of an rsync failure.
// Pure text work; used by memory sync and backup alike.
//
// Names are bytes: rsync writes the bytes it cannot print as \#ooo (octal) and
// may write UTF-8 as is. Both are turned back into bytes, then decoded as
// UTF-8; a name that is not valid UTF-8 is never guessed at (Latin-1 would name
// another file): it goes to `undecodable`, in rsync's escaped form.

export interface Itemized {
  changed: string[]; // regular files whose content was (or would be) sent
  created: string[]; // the subset that did not exist on the receiver
  deleted: string[]; // regular files deleted (or that would be) on the receiver
  bytes: number; // sent + received, from --stats
  files?: number; // regular files in the transfer (the source side), from --stats
  deletions: number; // every `*deleting` line, directories included (what --max-delete counts)
  touched: number; // every itemized line: anything at all would change on the receiver
  undecodable: string[]; // names that are not UTF-8, as rsync escaped them
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** rsync's escaped name as UTF-8 text, or null when its bytes are not UTF-8. */
export function decodeName(s: string): string | null {
  if (!s.includes('\\#')) return s;
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const m of s.matchAll(/\\#([0-7]{3})/g)) {
    parts.push(encoder.encode(s.slice(last, m.index)), Uint8Array.of(parseInt(m[1]!, 8) & 0xff));
    last = m.index! + m[0].length;
  }
  parts.push(encoder.encode(s.slice(last)));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The name for messages: decoded when it is UTF-8, else rsync's escaped form. */
export function unescapeName(s: string): string {
  return decodeName(s) ?? s;
}

/** Reads `-i --stats` output. Lines: `>f+++++++++ name`, `<f.st...... name`, `*deleting   name`. */
export function parseItemized(stdout: string): Itemized {
  const r: Itemized = { changed: [], created: [], deleted: [], bytes: 0, deletions: 0, touched: 0, undecodable: [] };
  const name = (raw: string): string | null => {
    const n = decodeName(raw);
    if (n === null && !r.undecodable.includes(raw)) r.undecodable.push(raw);
    return n;
  };
  for (const line of stdout.split('\n')) {
    const del = /^\*deleting +(.*)$/.exec(line);
    if (del) {
      r.deletions++;
      r.touched++;
      const n = name(del[1]!);
      if (n !== null && !n.endsWith('/')) r.deleted.push(n);
      continue;
    }
    const m = /^([<>ch.])([fdLDS])([^ ]{9,10}) (.*)$/.exec(line);
    if (m) {
      r.touched++;
      const n = name(m[4]!);
      // Only files carry content; '.' in the first column: only attributes changed.
      if (m[2] !== 'f' || m[1] === '.' || n === null) continue;
      r.changed.push(n);
      if (m[3]!.startsWith('+++')) r.created.push(n);
      continue;
    }
    const c = /^Number of files: [\d,.]+ \(reg: ([\d,.]+)/.exec(line);
    if (c) r.files = Number(c[1]!.replace(/[,.]/g, ''));
    else if (line.startsWith('Number of files: ')) r.files = 0; // directories only: no regular file
    const b = /^Total bytes (?:sent|received): ([\d,.]+)/.exec(line);
    if (b) r.bytes += Number(b[1]!.replace(/[,.]/g, ''));
  }
  return r;
}

/** What a failed rsync run reports: enough for one line. */
export interface RsyncFailure {
  code: number | null;
  signal: string | null;
  stderr: string;
  timedOut: boolean;
}

/** The one wording of an rsync failure: "<what>: rsync exit 23 (meaning): last stderr lines". */
export function rsyncFailure(
  what: string,
  res: RsyncFailure,
  deadline: number,
  meaning: (c: number) => string,
): string {
  if (res.timedOut) return `${what}: no result within the ${deadline} s deadline; rsync was stopped`;
  const err = rsyncSaid(res.stderr);
  const how = res.code === null ? `killed by ${res.signal}` : `exit ${res.code} (${meaning(res.code)})`;
  return `${what}: rsync ${how}${err ? `: ${err}` : ''}`;
}

/** ssh's own words about why the connection failed (host key, auth, refused, timed out). */
const SSH_SAID = new RegExp(
  [
    'host key',
    'IDENTIFICATION HAS CHANGED',
    'Permission denied',
    'Connection (refused|timed out|closed by)',
    'No route to host',
    'Could not resolve',
    'kex_exchange_identification',
    'banner exchange',
    '^ssh: ',
  ].join('|'),
  'i',
);

/**
 * What a failed rsync said, for one line: ssh's own diagnosis when there is one, then rsync's last
 * line. rsync's exit code and last lines depend on when it noticed its ssh had died (255 or 12,
 * "connection unexpectedly closed"), so the last lines alone may not name the cause.
 */
export function rsyncSaid(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const ssh = lines.filter((l) => SSH_SAID.test(l) && !/^rsync/.test(l)).slice(0, 2);
  const rest = lines.filter((l) => !ssh.includes(l)).slice(ssh.length ? -1 : -2);
  return [...ssh, ...rest].join(' / ');
}
