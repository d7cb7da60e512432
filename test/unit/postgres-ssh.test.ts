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

// SshSession.exec (psql's channel: SQL on stdin, row data streamed): bytes decoded by the caller, once, and capped.
function execSession(chunks: Buffer[], code: number): { s: any; closed: () => boolean; stdin: Buffer[] } {
  let closed = false;
  const stdin: Buffer[] = [];
  const conn = {
    spawn: async () => {
      const ch: any = new EventEmitter();
      ch.stderr = new EventEmitter();
      ch.write = (b: Buffer) => stdin.push(Buffer.from(b)) > 0;
      ch.end = () =>
        setImmediate(() => {
          for (const c of chunks) ch.emit('data', c);
          if (!closed) ch.emit('close', code);
        });
      ch.close = () => {
        closed = true;
      };
      return ch;
    },
  };
  const s = Object.create(SshSession.prototype);
  Object.assign(s, { conn, host: { name: 'pc1', user: 'u', address: '192.0.2.1', port: 22 }, commandTimeout: 5 });
  return { s, closed: () => closed, stdin };
}

test('exec: stdin reaches the channel; stdout comes back as sent, a character split across chunks whole', async () => {
  const text = Buffer.from('a😀b');
  const { s, stdin } = execSession([text.subarray(0, 3), text.subarray(3)], 0);
  const ch = await s.exec('psql', 5);
  ch.write('SELECT 1;');
  ch.end();
  assert.deepEqual(await ch.done, { code: 0, stderr: '' });
  assert.equal(Buffer.concat(stdin).toString(), 'SELECT 1;');
  assert.equal(ch.stdout().toString('utf8'), 'a😀b');
});

test('exec: collected stdout past its cap closes the channel and fails naming the command', async () => {
  const { s, closed } = execSession([Buffer.alloc(600), Buffer.alloc(600)], 0);
  const ch = await s.exec('psql -X', 5, undefined, { cap: 1000, what: 'psql (reading the slot)' });
  ch.end();
  await assert.rejects(ch.done, /output over 1000 B cap from pc1 psql \(reading the slot\)/);
  assert.ok(closed(), 'the channel was closed');
});

test('exec: stdout taken through onData streams on, uncapped', async () => {
  const { s } = execSession([Buffer.alloc(600), Buffer.alloc(600)], 0);
  let n = 0;
  const ch = await s.exec('psql -X', 5, (b: Buffer) => (n += b.length), { cap: 1000 });
  ch.end();
  assert.equal((await ch.done).code, 0);
  assert.equal(n, 1200);
});
