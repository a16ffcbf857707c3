import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BusyClock, busiestPoolUtilization } from './busy-time.js';

describe('BusyClock', () => {
  test('adds finished and running stretches per worker', () => {
    let now = 1000;
    const clock = new BusyClock('embedding', 2, () => now);
    const a = {};
    const b = {};
    clock.start(a);
    now += 300;
    clock.start(b);
    clock.start(a); // already busy: the stretch keeps its start
    now += 200;
    clock.stop(a);
    now += 100;
    assert.deepEqual(clock.read(), { pool: 'embedding', workers: 2, busyMs: 500 + 300 });
    clock.stop(b);
    clock.stop(b); // already idle: nothing added
    now += 1000;
    assert.equal(clock.read().busyMs, 800);
  });
});

describe('busiestPoolUtilization', () => {
  const pool = (name: string, workers: number, busyMs: number) => ({ pool: name, workers, busyMs });

  test('takes the busiest pool, each measured against its own capacity', () => {
    const before = [pool('parsing', 1, 0), pool('embedding', 2, 1000)];
    const after = [pool('parsing', 1, 250), pool('embedding', 2, 2800)];
    assert.equal(busiestPoolUtilization(before, after, 1000), 0.9);
  });

  test('counts a pool missing from the earlier reading from zero', () => {
    assert.equal(busiestPoolUtilization([], [pool('parsing', 2, 500)], 1000), 0.25);
  });

  test('stays within 0 and 1', () => {
    assert.equal(busiestPoolUtilization([], [pool('parsing', 1, 5000)], 1000), 1);
    assert.equal(
      busiestPoolUtilization([pool('parsing', 1, 900)], [pool('parsing', 1, 0)], 1000),
      0,
    );
    assert.equal(busiestPoolUtilization([], [pool('parsing', 1, 500)], 0), 0);
    assert.equal(busiestPoolUtilization([], [pool('parsing', 0, 500)], 1000), 0);
  });
});
