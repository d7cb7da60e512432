// Found by the postgres e2e (about one run in five): a fast remote command
// (printf, a short psql) was reported as "connection lost" although it exited 0.
// ssh2 can handle the command's exit status in the same socket read as the exec
// reply, before SshSession.run has attached its 'exit' listener. ssh2 keeps that
// status on the channel and passes it as the arguments of 'close' (lib/utils.js,
// "the close event gets the same arguments as the exit event"), with undefined
// when none came. A stand-in channel replays exactly that order: no 'exit' event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { SshSession } from '../../dist/adapters/ssh.js';

function sessionWith(exitSeenEarly: boolean): any {
  const conn = {
    spawn: async () => {
      const stream: any = new EventEmitter();
      stream.stderr = new EventEmitter();
      // The exit status was parsed before anyone listened: only 'close' carries it.
      setImmediate(() => {
        stream.emit('data', Buffer.from('ok\n'));
        stream.emit('close', exitSeenEarly ? 0 : undefined);
      });
      return stream;
    },
  };
  const s = Object.create(SshSession.prototype);
  Object.assign(s, { conn, host: { name: 'pc1', user: 'u', address: '192.0.2.1', port: 22 }, commandTimeout: 5 });
  return s;
}

test('an exit status that came before the listener still counts', async () => {
  const r = await sessionWith(true).run('printf ok', 5);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'ok\n');
});

test('a channel that closes with no exit status at all is still a lost connection', async () => {
  await assert.rejects(sessionWith(false).run('printf ok', 5), /connection lost during a remote command/);
});
