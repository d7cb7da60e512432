// The faults the fencing properties draw (fencing-model.test.ts, fencing-liveness.test.ts): one
// arbitrary, so that both draw the same world.
import fc from 'fast-check';
import type { Action } from './fencing-world.ts';

// The default guard (lease 45 s, interval 5 s), short witness deadlines, random faults.
export const CFG = {
  guard: {},
  thresholds: {
    connectTimeout: 2,
    commandTimeout: 3,
    stopDeadline: 3,
    pollInterval: 1,
    cooldown: 20,
    maxAttempts: 100,
  },
};

export const names = ['W0', 'W1', 'W2', 'P', 'S'];
export const action = (n: number): fc.Arbitrary<Action> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ k: fc.constant('advance' as const), dt: fc.integer({ min: 1, max: 40 }) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        k: fc.constantFrom('cut' as const, 'sever' as const, 'sever' as const, 'heal' as const),
        from: fc.constantFrom(...names),
        to: fc.constantFrom(...names),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        k: fc.constant('check' as const),
        w: fc.nat(n - 1),
        lead: fc.boolean(),
        kill: fc.oneof(fc.constant(9), fc.integer({ min: 0, max: 2 })),
      }),
    },
    {
      weight: 8,
      arbitrary: fc.record({
        k: fc.constant('cycle' as const),
        w: fc.nat(n - 1),
        kill: fc.oneof(fc.constant(99), fc.constant(99), fc.integer({ min: 0, max: 8 })),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('failover' as const),
        w: fc.nat(n - 1),
        lead: fc.boolean(),
        kill: fc.oneof(fc.constant(99), fc.integer({ min: 0, max: 8 })),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constantFrom(
          'witness-down' as const,
          'witness-up' as const,
          'witness-replace' as const,
          'quorum' as const,
          'rebuild' as const,
        ),
        w: fc.nat(n - 1),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constantFrom('host-down' as const, 'host-up' as const),
        h: fc.constantFrom('primary' as const, 'standby' as const),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('clock' as const),
        m: fc.constantFrom(...names),
        d: fc.integer({ min: -7200, max: 7200 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('loopback' as const) }) },
    {
      weight: 1,
      arbitrary: fc.record({ k: fc.constant('stopSpeed' as const), f: fc.double({ min: 0, max: 1, noNaN: true }) }),
    },
  );
