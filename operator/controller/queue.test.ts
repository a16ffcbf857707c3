import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from './queue.js';

describe('WorkQueue', () => {
  it('holds a waiting key once', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    assert.equal(queue.depth, 2);
    assert.equal(await queue.get(), 'a');
    assert.equal(await queue.get(), 'b');
    assert.equal(queue.depth, 0);
  });

  it('never hands out a key being processed', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const key = await queue.get();
    queue.add('a');
    assert.equal(queue.depth, 0, 'a key in process must not wait twice');
    queue.done(key!);
    assert.equal(queue.depth, 1, 'a key added during processing must run again');
    assert.equal(await queue.get(), 'a');
  });

  it('wakes a waiting worker', async () => {
    const queue = new WorkQueue();
    const next = queue.get();
    queue.add('a');
    assert.equal(await next, 'a');
  });

  it('keeps the earliest delayed add', async () => {
    const queue = new WorkQueue();
    queue.addAfter('a', 10_000);
    queue.addAfter('a', 20);
    const started = Date.now();
    // The queue's timers are unref'd so they never hold a process open; this one keeps the test
    // alive until the delayed add fires.
    const keepAlive = setTimeout(() => {}, 10_000);
    assert.equal(await queue.get(), 'a');
    clearTimeout(keepAlive);
    assert.ok(Date.now() - started < 5000);
    queue.shutDown();
  });

  it('doubles the backoff per failure', () => {
    const queue = new WorkQueue({ baseBackoffMs: 100, maxBackoffMs: 350 });
    assert.equal(queue.addRateLimited('a'), 100);
    assert.equal(queue.addRateLimited('a'), 200);
    assert.equal(queue.addRateLimited('a'), 350);
    queue.forget('a');
    assert.equal(queue.addRateLimited('a'), 100);
    queue.shutDown();
  });

  it('releases workers on shutdown', async () => {
    const queue = new WorkQueue();
    const next = queue.get();
    queue.shutDown();
    assert.equal(await next, undefined);
    queue.add('a');
    assert.equal(queue.depth, 0);
  });

  it('reports its depth', () => {
    const depths: number[] = [];
    const queue = new WorkQueue({ onDepthChange: (depth) => depths.push(depth) });
    queue.add('a');
    queue.add('b');
    void queue.get();
    assert.deepEqual(depths, [1, 2, 1]);
  });
});
