// Strict host-key checking for ssh2, which has none built in. Reads OpenSSH
// known_hosts: plain names, patterns (* ?, !negation), [host]:port, hashed
// |1|salt|hmac entries and @revoked markers.
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

/** Keys listed for this host, or a thrown error when the file cannot be read. */
export function knownKeysFor(file: string, address: string, port: number): KnownKey[] {
  const token = hostToken(address, port);
  const keys: KnownKey[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    let revoked = false;
    if (parts[0]!.startsWith('@')) {
      const marker = parts.shift();
      if (marker === '@cert-authority') continue; // certificates are not supported: ignore, never trust
      revoked = marker === '@revoked';
    }
    const [field, type, blob] = parts;
    if (!field || !type || !blob) continue;
    if (hostsFieldMatches(field, token)) keys.push({ type, blob, revoked });
  }
  return keys;
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
