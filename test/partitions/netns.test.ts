// The partition lab itself: nodes hear each other, a cut is a cut (in both directions, for both
// parties only), an isolated node hears nobody, nothing can leave the lab, destroy leaves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { NetnsLab, strayLabs } from '../lab/netns.js';

const listen = (lab: NetnsLab, node: string, port: number): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const js = `require('net').createServer(s=>s.end()).listen(${port},'0.0.0.0',()=>console.log('up'))`;
    const c = lab.spawn(node, [process.execPath, '-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
    c.stdout!.once('data', () => resolve(c));
    c.once('exit', (code) => reject(new Error(`listener on ${node} exited ${code}`)));
  });

test('netns lab: reach, cut, heal, isolate, heal all, sealed, destroyed', async () => {
  const lab = NetnsLab.create();
  try {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => lab.addNode(n));
    for (const n of ['a', 'b', 'c']) await listen(lab, n, 7000);
    assert.equal(await lab.canConnect('a', b!.address, 7000), true, 'a reaches b');
    assert.equal(await lab.canConnect('a', c!.address, 7000), true, 'a reaches c');
    lab.cut('a', b!.name);
    assert.equal(await lab.canConnect('a', b!.address, 7000, 800), false, 'a no longer reaches b');
    assert.equal(await lab.canConnect('b', a!.address, 7000, 800), false, 'b no longer reaches a');
    assert.equal(await lab.canConnect('a', c!.address, 7000), true, 'a still reaches c');
    assert.equal(await lab.canConnect('c', b!.address, 7000), true, 'c still reaches b');
    assert.ok(lab.dropped('a') + lab.dropped('b') > 0, 'the cut rules dropped packets');
    lab.heal('a', 'b');
    assert.equal(await lab.canConnect('a', b!.address, 7000), true, 'healed');
    lab.isolate('c');
    assert.equal(await lab.canConnect('a', c!.address, 7000, 800), false, 'c isolated');
    assert.equal(await lab.canConnect('c', a!.address, 7000, 800), false, 'c hears nobody');
    lab.rejoin('c');
    assert.equal(await lab.canConnect('a', c!.address, 7000), true, 'c back');
    // healAll: every cut and every pulled cable undone at once, whoever made them.
    lab.cut('a', b!.name);
    lab.cut('b', c!.name);
    lab.isolate('a');
    lab.healAll();
    for (const [x, y] of [
      ['a', b!],
      ['b', c!],
      ['c', a!],
    ] as const)
      assert.equal(await lab.canConnect(x, y.address, 7000), true, `healAll: ${x} reaches ${y.name}`);
    // Sealed: no default route anywhere, nothing outside the lab is routable from inside it.
    assert.deepEqual(lab.leaks(), []);
    const out = await lab.exec('a', ['ip', 'route', 'get', '1.1.1.1']);
    assert.notEqual(out.code, 0, `a routes out of the lab: ${out.stdout}`);
    assert.equal(await lab.canConnect('a', '127.0.0.1', 7000), true, 'loopback is the node own');
  } finally {
    lab.destroy();
    lab.destroy(); // idempotent
  }
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  assert.ok(!left.includes(lab.prefix), `namespaces left behind: ${left}`);
  assert.ok(!strayLabs().some((n) => n.startsWith(lab.prefix)));
});
