// Heartbeats and resource warnings (issue 13, items 4 and 5), the pure parts as tables:
// what the remote read prints, how it parses, and how it is judged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHealth } from '../../dist/health/parse.js';
import { judgeHeartbeat, judgeResources, judgeDisk, summarizeHealth } from '../../dist/health/judge.js';
import { healthScript, heartbeatPath, remotePath } from '../../dist/health/scripts.js';

const HB = { warning: 180, critical: 300, required: false };
const RES = { enabled: true, diskFreePercent: 10, memoryPercent: 85, loadPercent: 80 };
const NOW = 2_000_000_000;

describe("heartbeat age by the host's own clock (seed 004: <3m ok, 3-5m warning, >5m critical)", () => {
  const rows: Array<[string, number | null | undefined, string, object?]> = [
    ['written now', NOW, 'ok'],
    ['2m59s old', NOW - 179, 'ok'],
    ['exactly 3m old', NOW - 180, 'warning'],
    ['4m old', NOW - 240, 'warning'],
    ['exactly 5m old', NOW - 300, 'warning'],
    ['5m01s old', NOW - 301, 'critical'],
    ['an hour old', NOW - 3600, 'critical'],
    ['30 s in the future (clock slack)', NOW + 30, 'ok'],
    ['10 minutes in the future', NOW + 600, 'warning'],
    ['no file, not required', null, 'ok'],
    ['no file, required', null, 'critical', { required: true }],
    ['not read', undefined, 'warning'],
    ['critical set below warning: critical beyond the warning', NOW - 200, 'critical', { critical: 60 }],
    ['critical set below warning, under both', NOW - 170, 'ok', { critical: 60 }],
  ];
  for (const [name, mtime, level, over] of rows) {
    test(name, () => {
      const f = judgeHeartbeat('standby', { hostNow: NOW, heartbeat: mtime, disks: [] }, { ...HB, ...over }, 'hb');
      assert.equal(f.level, level, f.message);
      assert.match(f.message, /^standby: /);
    });
  }
  test('the witness clock never enters: a host a day ahead with a fresh file is ok', () => {
    const day = NOW + 86400;
    assert.equal(judgeHeartbeat('h', { hostNow: day, heartbeat: day - 10, disks: [] }, HB, 'f').level, 'ok');
  });
});

describe('resources (seed 003: memory 85 %, CPU 80 %; disk free 10 %): warnings only', () => {
  const rows: Array<[string, object, Array<[string, string]>]> = [
    [
      'all fine',
      { mem: { totalKB: 1000, availKB: 500 }, load: [0.5, 0.5, 0.5], ncpu: 2 },
      [
        ['memory', 'ok'],
        ['load', 'ok'],
      ],
    ],
    ['memory 86 % in use', { mem: { totalKB: 1000, availKB: 140 } }, [['memory', 'warning']]],
    ['memory exactly 85 %', { mem: { totalKB: 1000, availKB: 150 } }, [['memory', 'ok']]],
    ['load 1.7 on 2 cores (85 %)', { load: [3, 1.7, 1], ncpu: 2 }, [['load', 'warning']]],
    ['load 1.5 on 2 cores (75 %), a spike in the 1-minute figure', { load: [9, 1.5, 1], ncpu: 2 }, [['load', 'ok']]],
    ['load without a core count: not judged', { load: [9, 9, 9] }, []],
    ['disk 5 % free', { disks: [{ label: 'memory', sizeKB: 1000, availKB: 50 }] }, [['disk', 'warning']]],
    ['disk full', { disks: [{ label: 'runDir', sizeKB: 1000, availKB: 0 }] }, [['disk', 'warning']]],
    ['disk 10 % free', { disks: [{ label: 'memory', sizeKB: 1000, availKB: 100 }] }, [['disk', 'ok']]],
  ];
  for (const [name, r, want] of rows) {
    test(name, () => {
      const got = judgeResources('standby', { disks: [], ...r } as any, RES);
      assert.deepEqual(
        got.map((f: any) => [f.check, f.level]),
        want,
        got.map((f: any) => f.message).join('\n'),
      );
      for (const f of got) assert.notEqual(f.level, 'critical');
    });
  }
  test('a full disk names the place and what is free', () => {
    const f = judgeDisk('standby', { label: 'memory', sizeKB: 1024 * 100, availKB: 1024 }, RES);
    assert.match(f.message, /standby: disk of the memory root 99% full, 1 MB free \(warning below 10% free\)/);
  });
});

describe('summarizeHealth: the worst level, its exit code, the problems in one line', () => {
  const f = (level: string, message = level) => ({ host: 'h', check: 'disk', level, message, value: 0 });
  const rows: Array<[string, any[], string, number, string | null]> = [
    ['nothing', [], 'ok', 0, null],
    ['all ok', [f('ok'), f('ok')], 'ok', 0, null],
    ['one warning', [f('ok'), f('warning', 'w')], 'warning', 1, 'WARNING: w'],
    ['critical wins', [f('warning', 'w'), f('critical', 'c')], 'critical', 2, 'WARNING: w; CRITICAL: c'],
  ];
  for (const [name, findings, level, code, line] of rows) {
    test(name, () => assert.deepEqual(summarizeHealth(findings), { level, exitCode: code, line }));
  }
});

describe('parseHealth: what the remote read prints', () => {
  const rows: Array<[string, string, object]> = [
    [
      'a Linux host',
      'now 100\nhb 90\nncpu 4\nload 0.10 0.20 0.30\nmem 1000 400\ndisk memory 2048 1024\n',
      {
        hostNow: 100,
        heartbeat: 90,
        ncpu: 4,
        load: [0.1, 0.2, 0.3],
        mem: { totalKB: 1000, availKB: 400 },
        disks: [{ label: 'memory', sizeKB: 2048, availKB: 1024 }],
      },
    ],
    ['no heartbeat file', 'now 100\nhb none\n', { hostNow: 100, heartbeat: null, disks: [] }],
    [
      'a macOS load line, no meminfo',
      'now 5\nhb 4\nncpu 8\nload  1.5 1.6 1.7 \n',
      {
        hostNow: 5,
        heartbeat: 4,
        ncpu: 8,
        load: [1.5, 1.6, 1.7],
        disks: [],
      },
    ],
    [
      'garbage and empty df output are left unknown',
      'now x\nhb \nload 1 2\nmem 0 1\ndisk memory\nncpu 0\ndisk m 0 0\n',
      {
        disks: [],
      },
    ],
  ];
  for (const [name, out, want] of rows) {
    test(name, () => {
      const r: any = parseHealth(out);
      for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k];
      assert.deepEqual(r, want);
    });
  }
});

describe('the remote read script', () => {
  const config: any = {
    heartbeat: HB,
    resources: RES,
    memory: { root: ".openclaw/it's" },
    gateway: { runDir: '.openclaw/hactl' },
  };
  const host: any = { name: 'h', gateway: { runDir: '/var/run/o c/' } };
  test('paths: relative to the home, absolute as given, every one through the quoting helper', () => {
    assert.equal(remotePath('a b'), `"$HOME"/'a b'`);
    assert.equal(remotePath('/x'), `'/x'`);
    assert.equal(heartbeatPath(config, host), '/var/run/o c/heartbeat');
    assert.equal(heartbeatPath({ ...config, heartbeat: { ...HB, path: 'hb' } }, host), 'hb');
    const s = healthScript(config, host);
    assert.ok(s.includes(`f='/var/run/o c/heartbeat'`), s);
    assert.ok(s.includes(`d1="$HOME"/'.openclaw/it'\\''s'`), s);
  });
  test('resources off: only the clock and the heartbeat are read', () => {
    const s = healthScript({ ...config, resources: { ...RES, enabled: false } }, host);
    assert.ok(s.includes('now="$(date +%s)"') && !s.includes('df -Pk') && s.includes('res=0'), s);
  });
});
