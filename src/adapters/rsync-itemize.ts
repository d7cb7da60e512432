// Reading rsync's itemized output (-i --stats): which regular files were sent,
// created and deleted, and the totals. Pure text parsing; used by memory sync
// and backup alike.

export interface Itemized {
  changed: string[]; // regular files whose content was (or would be) sent
  created: string[]; // the subset that did not exist on the receiver
  deleted: string[]; // regular files deleted (or that would be) on the receiver
  bytes: number; // sent + received, from --stats
  files?: number; // regular files in the transfer (the source side), from --stats
}

/** rsync escapes unprintable bytes in names as \#ooo (octal). */
export function unescapeName(s: string): string {
  return s.replace(/\\#([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Reads `-i --stats` output. Lines: `>f+++++++++ name`, `<f.st...... name`, `*deleting   name`. */
export function parseItemized(stdout: string): Itemized {
  const r: Itemized = { changed: [], created: [], deleted: [], bytes: 0 };
  for (const line of stdout.split('\n')) {
    const del = /^\*deleting +(.*)$/.exec(line);
    if (del) {
      const name = unescapeName(del[1]!);
      if (!name.endsWith('/')) r.deleted.push(name);
      continue;
    }
    const m = /^([<>ch.])f([^ ]{9,10}) (.*)$/.exec(line);
    if (m) {
      // '.' in the first column: only attributes changed; the content did not move.
      if (m[1] === '.') continue;
      const name = unescapeName(m[3]!);
      r.changed.push(name);
      if (m[2]!.startsWith('+++')) r.created.push(name);
      continue;
    }
    const n = /^Number of files: [\d,.]+ \(reg: ([\d,.]+)/.exec(line);
    if (n) r.files = Number(n[1]!.replace(/[,.]/g, ''));
    const b = /^Total bytes (?:sent|received): ([\d,.]+)/.exec(line);
    if (b) r.bytes += Number(b[1]!.replace(/[,.]/g, ''));
  }
  return r;
}
