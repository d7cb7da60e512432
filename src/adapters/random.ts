// Random names (temp files, outbox ids): bytes from the kernel, without node's crypto modules.
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * `bytes` random bytes as hex, read from the kernel's /dev/urandom: the same source node:crypto and the
 * global Web Crypto draw from, without loading either (the first use of either loads node's crypto
 * modules, a few ms of every state-writing run's CPU; issue 25).
 */
export function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  let fd: number;
  try {
    fd = openSync('/dev/urandom', 'r');
  } catch {
    // No /dev/urandom (a bare chroot): the Web Crypto draws from the same kernel source.
    return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
  }
  try {
    for (let got = 0; got < bytes;) got += readSync(fd, buf, got, bytes - got, null);
  } finally {
    closeSync(fd);
  }
  return buf.toString('hex');
}
