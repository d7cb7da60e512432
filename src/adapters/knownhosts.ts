// Strict host-key checking for ssh2, which has none built in. Reads OpenSSH
// known_hosts: plain names, patterns (* ?, !negation), [host]:port, hashed
// |1|salt|hmac entries, @revoked markers, and @cert-authority lines (read, never trusted).
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface KnownKey {
  type: string;
  blob: string; // base64, as in the file
  revoked: boolean;
}

function hostToken(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
    'i',
  );
  return re.test(name);
}

function hostsFieldMatches(field: string, token: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest('base64') === hash;
  }
  let matched = false;
  for (const pat of field.split(',')) {
    if (pat.startsWith('!')) {
      if (globMatch(pat.slice(1), token)) return false;
    } else if (globMatch(pat, token)) matched = true;
  }
  return matched;
}

export interface KnownLine {
  line: number;
  marker: 'cert-authority' | 'revoked' | null;
  hashed: boolean;
  type: string;
  blob: string;
}

/**
 * Every entry of a known_hosts text that names this host, in file order, with its marker:
 * plain and hashed entries, @revoked and @cert-authority lines. Pure.
 */
export function knownLinesFor(text: string, address: string, port: number): KnownLine[] {
  const token = hostToken(address, port);
  const out: KnownLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    let marker: KnownLine['marker'] = null;
    if (parts[0]!.startsWith('@')) {
      const m = parts.shift();
      if (m === '@cert-authority') marker = 'cert-authority';
      else if (m === '@revoked') marker = 'revoked';
      else return; // an unknown marker: OpenSSH skips the line too
    }
    const [field, type, blob] = parts;
    if (!field || !type || !blob) return;
    if (hostsFieldMatches(field, token)) out.push({ line: i + 1, marker, hashed: field.startsWith('|1|'), type, blob });
  });
  return out;
}

/**
 * Keys listed for this host, or a thrown error when the file cannot be read. A
 * @cert-authority line is never a host key: ssh2 cannot check host certificates, so
 * such a line is read (hactl doctor reports it) but never trusted here.
 */
export function knownKeysFor(file: string, address: string, port: number): KnownKey[] {
  return knownLinesFor(readFileSync(file, 'utf8'), address, port)
    .filter((l) => l.marker !== 'cert-authority')
    .map((l) => ({ type: l.type, blob: l.blob, revoked: l.marker === 'revoked' }));
}

/** The wire-format key ssh2 hands the verifier starts with its type name. */
export function keyTypeOf(wireKey: Buffer): string {
  const len = wireKey.readUInt32BE(0);
  return wireKey.subarray(4, 4 + len).toString('latin1');
}

export function verifyHostKey(keys: KnownKey[], wireKey: Buffer): { ok: boolean; reason?: string } {
  const blob = wireKey.toString('base64');
  if (keys.some((k) => k.revoked && k.blob === blob)) return { ok: false, reason: 'host key is marked @revoked' };
  if (keys.some((k) => !k.revoked && k.blob === blob)) return { ok: true };
  if (!keys.some((k) => !k.revoked)) return { ok: false, reason: 'host is not in known_hosts' };
  return { ok: false, reason: `host key CHANGED (offered ${keyTypeOf(wireKey)} key matches no known_hosts entry)` };
}
