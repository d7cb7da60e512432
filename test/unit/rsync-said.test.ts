// What a failed rsync's one line says: ssh's own diagnosis first, whatever exit code rsync gave.
// rsync exits 255 or 12 after its ssh died, depending on when it noticed; its last lines alone
// then say only "connection unexpectedly closed" (seen in CI: a host-key failure without "host key").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rsyncFailure, rsyncSaid } from '../../src/adapters/rsync-itemize.ts';
import { rsyncExitMeaning } from '../../src/adapters/rsync.ts';

const CLOSED =
  'rsync: connection unexpectedly closed (0 bytes received so far) [Receiver]\n' +
  'rsync error: error in rsync protocol data stream (code 12) at io.c(232) [Receiver=3.2.7]\n';
const UNEXPLAINED = 'rsync error: unexplained error (code 255) at io.c(232) [Receiver=3.2.7]\n';

const rows: Array<[string, string, RegExp]> = [
  [
    'unknown host key, rsync exit 12',
    'No ED25519 host key is known for [127.0.0.2]:2222 and you have requested strict checking.\n' +
      'Host key verification failed.\n' +
      CLOSED,
    /host key is known.*Host key verification failed.*data stream/,
  ],
  [
    'changed host key, rsync exit 255',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n' +
      '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n' +
      'Host key for [127.0.0.2]:2222 has changed and you have requested strict checking.\n' +
      'Host key verification failed.\n' +
      UNEXPLAINED,
    /IDENTIFICATION HAS CHANGED.*has changed.*unexplained error/,
  ],
  [
    'refused',
    'ssh: connect to host 127.0.0.2 port 2222: Connection refused\n' + CLOSED,
    /Connection refused.*data stream/,
  ],
  ['authentication', 'root@127.0.0.2: Permission denied (publickey).\n' + CLOSED, /Permission denied.*data stream/],
  [
    "no ssh line: rsync's last two lines as before",
    'rsync: [sender] link_stat "/x" failed: No such file or directory (2)\n' +
      'rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338)\n',
    /link_stat.*code 23/,
  ],
];

for (const [name, stderr, want] of rows) test(`rsyncSaid: ${name}`, () => assert.match(rsyncSaid(stderr), want));

test('the failure line of a memory copy names the host key whatever the exit code', () => {
  const stderr = 'Host key verification failed.\n' + CLOSED;
  for (const code of [12, 255]) {
    const line = rsyncFailure(
      'pull from primary',
      { code, signal: null, stderr, timedOut: false },
      60,
      rsyncExitMeaning,
    );
    assert.match(line, /host key/i, line);
  }
});
