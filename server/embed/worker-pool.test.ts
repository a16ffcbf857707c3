import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { silentLogger } from '../core/logger.js';
import type { EchoRequest } from './testdata/echo-worker.js';
import { WorkerPool } from './worker-pool.js';

type EchoPool = WorkerPool<{ threadId: number }, EchoRequest, { text: string; threadId: number }>;

/** Polls `condition` every 20 ms for up to 20 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 20) {
    if (waitedMs > 20_000) throw new Error('condition not met within 20 s');
    await sleep(20);
  }
}

const workerUrl = new URL('./testdata/echo-worker.ts', import.meta.url);

function startPool(workerData: unknown = {}, size = 2) {
  return WorkerPool.start<{ threadId: number }, EchoRequest, { text: string; threadId: number }>({
    workerUrl,
    workerData,
    size,
    name: 'echo',
    logger: silentLogger,
  });
}

describe('WorkerPool', () => {
  let pool: EchoPool;

  before(async () => {
    pool = (await startPool()).pool;
  });

  after(async () => {
    await pool.close();
  });

  test('runs requests on every worker', async () => {
    const texts = Array.from({ length: 8 }, (_, index) => `text ${index}`);
    const results = await Promise.all(texts.map((text) => pool.run({ text, delayMs: 20 })));

    assert.deepEqual(
      results.map((result) => result.text),
      texts.map((text) => text.toUpperCase()),
    );
    assert.equal(new Set(results.map((result) => result.threadId)).size, 2);
  });

  test('counts the time its workers spend on requests', async () => {
    const before = pool.busyTime();
    assert.equal(before.pool, 'echo');
    assert.equal(before.workers, 2);
    const running = pool.run({ text: 'slow', delayMs: 300 });
    await sleep(100);
    const during = pool.busyTime().busyMs - before.busyMs;
    assert.ok(during >= 50, `a running request counts while it runs, got ${during} ms`);
    await running;
    const spent = pool.busyTime().busyMs - before.busyMs;
    assert.ok(spent >= 290, `the request's 300 ms are counted, got ${spent} ms`);
    await sleep(100);
    assert.equal(pool.busyTime().busyMs - before.busyMs, spent, 'an idle pool adds nothing');
  });

  test('worker exit fails its request and is replaced', async () => {
    await assert.rejects(pool.run({ text: 'exit' }), {
      code: 'EMBED_WORKER_CRASHED',
      message: /exited with code 7/,
    });
    assert.equal(pool.readyWorkers, 1);

    await waitFor(() => pool.readyWorkers === 2);
    const results = await Promise.all([
      pool.run({ text: 'a', delayMs: 50 }),
      pool.run({ text: 'b', delayMs: 50 }),
    ]);
    assert.deepEqual(
      results.map((result) => result.text),
      ['A', 'B'],
    );
    assert.equal(new Set(results.map((result) => result.threadId)).size, 2);
  });

  test('uncaught worker error fails its request', async () => {
    await assert.rejects(pool.run({ text: 'uncaught' }), {
      code: 'EMBED_WORKER_CRASHED',
      message: /uncaught error on purpose/,
    });
    assert.equal((await pool.run({ text: 'after' })).text, 'AFTER');
  });

  test('request error keeps the worker', async () => {
    const before = await pool.run({ text: 'x' });
    await assert.rejects(pool.run({ text: 'reject' }), {
      code: 'EMBED_FAILED',
      message: /request failed on purpose/,
    });
    const results = await Promise.all([
      pool.run({ text: 'y', delayMs: 20 }),
      pool.run({ text: 'z', delayMs: 20 }),
    ]);
    assert.ok(results.some((result) => result.threadId === before.threadId));
  });

  test('abort drops a queued request', async () => {
    const controller = new AbortController();
    const busy = [
      pool.run({ text: 'slow', delayMs: 200 }),
      pool.run({ text: 'slow', delayMs: 200 }),
    ];
    const queued = pool.run({ text: 'queued' }, { signal: controller.signal });
    controller.abort();

    await assert.rejects(queued, { name: 'AbortError' });
    assert.equal((await Promise.all(busy)).length, 2);
  });

  test('aborted signal rejects at once', async () => {
    await assert.rejects(pool.run({ text: 'never' }, { signal: AbortSignal.abort() }), {
      name: 'AbortError',
    });
  });
});

describe('WorkerPool start and close', () => {
  test('failed setup rejects start', async () => {
    await assert.rejects(startPool({ failSetup: true }), {
      code: 'EMBED_FAILED',
      message: /setup failed on purpose/,
    });
  });

  test('close rejects running and later requests', async () => {
    const { pool } = await startPool({}, 1);
    const running = assert.rejects(pool.run({ text: 'slow', delayMs: 300 }), {
      code: 'EMBEDDER_CLOSED',
    });
    const queued = assert.rejects(pool.run({ text: 'queued' }), { code: 'EMBEDDER_CLOSED' });

    await pool.close();

    await running;
    await queued;
    assert.equal(pool.readyWorkers, 0);
    await assert.rejects(pool.run({ text: 'late' }), { code: 'EMBEDDER_CLOSED' });
  });
});
