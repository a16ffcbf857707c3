import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DimensionMismatchError } from './errors.js';
import { row, unitVectors } from './testing/fixtures.js';
import { VectorIndex } from './vector-index.js';

const DIMENSION = 16;

async function withIndex(
  options: Partial<Parameters<typeof VectorIndex.create>[0]>,
  test: (index: VectorIndex) => Promise<void>,
): Promise<void> {
  const index = await VectorIndex.create({ dimension: DIMENSION, ...options });
  try {
    await test(index);
  } finally {
    await index.close();
  }
}

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('VectorIndex', () => {
  it('finds each vector as its own nearest', async () => {
    await withIndex({}, async (index) => {
      const vectors = unitVectors(50, DIMENSION, 1);
      await index.add(ids('c', 50), vectors);
      assert.equal(index.size, 50);
      for (const i of [0, 17, 49]) {
        const [best] = await index.search(row(vectors, i, DIMENSION), 3);
        assert.equal(best?.chunkId, `c${i}`);
        assert.ok(Math.abs(best.score - 1) < 1e-5, `score ${best.score} should be 1`);
      }
    });
  });

  it('returns no hits from an empty index', async () => {
    await withIndex({}, async (index) => {
      assert.deepEqual(await index.search(row(unitVectors(1, DIMENSION, 2), 0, DIMENSION), 5), []);
    });
  });

  it('clamps k to the number of vectors', async () => {
    await withIndex({}, async (index) => {
      await index.add(ids('c', 3), unitVectors(3, DIMENSION, 3));
      const hits = await index.search(row(unitVectors(1, DIMENSION, 4), 0, DIMENSION), 100);
      assert.equal(hits.length, 3);
      assert.deepEqual(new Set(hits.map((hit) => hit.chunkId)), new Set(ids('c', 3)));
    });
  });

  it('rejects a query of another dimension naming both', async () => {
    await withIndex({}, async (index) => {
      await index.add(ids('c', 1), unitVectors(1, DIMENSION, 5));
      await assert.rejects(index.search(new Float32Array(DIMENSION * 2), 1), (error) => {
        assert.ok(error instanceof DimensionMismatchError);
        assert.equal(error.code, 'DIMENSION_MISMATCH');
        assert.match(error.message, /must be 16 .* got 32/);
        return true;
      });
    });
  });

  it('rejects added vectors of another dimension', async () => {
    await withIndex({}, async (index) => {
      // 2 chunks of 32 floats each is a multiple of 16 that FAISS itself would accept as 4 rows.
      assert.throws(() => index.add(ids('c', 2), new Float32Array(64)), /must be 16 .* got 32/);
      assert.equal(index.size, 0);
    });
  });

  it('rejects a non-positive k', async () => {
    await withIndex({}, async (index) => {
      await assert.rejects(index.search(new Float32Array(DIMENSION), 0), /k must be a positive/);
    });
  });

  it('keeps chunk ids right after removals', async () => {
    await withIndex({}, async (index) => {
      const vectors = unitVectors(30, DIMENSION, 6);
      await index.add(ids('c', 30), vectors);
      assert.equal(await index.remove(['c0', 'c5', 'c10', 'missing']), 3);
      assert.equal(index.size, 27);
      for (let i = 0; i < 30; i++) {
        const hits = await index.search(row(vectors, i, DIMENSION), 1);
        if ([0, 5, 10].includes(i)) assert.notEqual(hits[0]?.chunkId, `c${i}`);
        else assert.equal(hits[0]?.chunkId, `c${i}`, `vector ${i} should find its own chunk`);
      }
    });
  });

  it('answers concurrent queries each with its own result', async () => {
    await withIndex({ maxBatchSize: 8 }, async (index) => {
      const vectors = unitVectors(200, DIMENSION, 7);
      await index.add(ids('c', 200), vectors);
      const queries = Array.from({ length: 40 }, (_, i) => i * 5);
      const results = await Promise.all(
        queries.map((i) => index.search(row(vectors, i, DIMENSION), 1 + (i % 4))),
      );
      results.forEach((hits, n) => {
        assert.equal(hits.length, 1 + (queries[n]! % 4));
        assert.equal(hits[0]?.chunkId, `c${queries[n]}`);
      });
    });
  });

  it('agrees between single and batched searches', async () => {
    // One query takes the addon's sgemv path, a batch of eight FAISS's own search.
    await withIndex({}, async (index) => {
      await index.add(ids('c', 500), unitVectors(500, DIMENSION, 15));
      const queries = unitVectors(8, DIMENSION, 16);
      const batched = await Promise.all(
        Array.from({ length: 8 }, (_, i) => index.search(row(queries, i, DIMENSION), 10)),
      );
      for (let i = 0; i < 8; i++) {
        const single = await index.search(row(queries, i, DIMENSION), 10);
        assert.deepEqual(
          single.map((hit) => hit.chunkId),
          batched[i]!.map((hit) => hit.chunkId),
        );
        single.forEach((hit, n) => assert.ok(Math.abs(hit.score - batched[i]![n]!.score) < 1e-5));
      }
    });
  });

  it('searches without blocking the event loop', async () => {
    await withIndex({ dimension: 384 }, async (index) => {
      await index.add(ids('c', 20_000), unitVectors(20_000, 384, 8));
      const queries = unitVectors(64, 384, 9);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 1);
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 64 }, (_, i) => index.search(row(queries, i, 384), 10)),
      );
      const elapsedMs = performance.now() - started;
      clearInterval(ticker);
      // Timers fire while FAISS works on the thread pool; a blocking call would starve them.
      assert.ok(ticks >= 2 || elapsedMs < 5, `${ticks} timer ticks in ${elapsedMs} ms`);
    });
  });

  it('restores exported state with its labels', async () => {
    const vectors = unitVectors(20, DIMENSION, 10);
    let exported: Awaited<ReturnType<VectorIndex['export']>> | undefined;
    await withIndex({}, async (index) => {
      await index.add(ids('c', 20), vectors);
      await index.remove(['c3']);
      exported = await index.export();
    });
    const restored = await VectorIndex.restore(exported!.bytes, exported!.labels, {
      dimension: DIMENSION,
    });
    try {
      assert.equal(restored.size, 19);
      await restored.add(['new'], row(vectors, 3, DIMENSION));
      assert.equal((await restored.search(row(vectors, 3, DIMENSION), 1))[0]?.chunkId, 'new');
      assert.equal((await restored.search(row(vectors, 7, DIMENSION), 1))[0]?.chunkId, 'c7');
    } finally {
      await restored.close();
    }
  });
});

describe('VectorIndex of kind hnsw', () => {
  it('finds vectors and skips removed ones', async () => {
    await withIndex({ kind: 'hnsw', efSearch: 32, compactRemovedRatio: 0.9 }, async (index) => {
      const vectors = unitVectors(300, DIMENSION, 11);
      await index.add(ids('c', 300), vectors);
      await index.remove(['c1', 'c2']);
      assert.equal(index.size, 298);
      const removed = await index.search(row(vectors, 1, DIMENSION), 10);
      assert.ok(removed.every((hit) => hit.chunkId !== 'c1' && hit.chunkId !== 'c2'));
      assert.equal(removed.length, 10);
      assert.equal((await index.search(row(vectors, 3, DIMENSION), 1))[0]?.chunkId, 'c3');
    });
  });

  it('rebuilds after many removals and keeps labels', async () => {
    await withIndex({ kind: 'hnsw', compactRemovedRatio: 0.1 }, async (index) => {
      const vectors = unitVectors(100, DIMENSION, 12);
      await index.add(ids('c', 100), vectors);
      await index.remove(ids('c', 20));
      assert.equal(index.size, 80);
      for (const i of [20, 50, 99]) {
        assert.equal((await index.search(row(vectors, i, DIMENSION), 1))[0]?.chunkId, `c${i}`);
      }
      await index.add(['again'], row(vectors, 0, DIMENSION));
      assert.equal((await index.search(row(vectors, 0, DIMENSION), 1))[0]?.chunkId, 'again');
    });
  });

  it('restores removals made before export', async () => {
    const vectors = unitVectors(50, DIMENSION, 13);
    let exported: Awaited<ReturnType<VectorIndex['export']>> | undefined;
    await withIndex({ kind: 'hnsw', compactRemovedRatio: 0.9 }, async (index) => {
      await index.add(ids('c', 50), vectors);
      await index.remove(['c4']);
      exported = await index.export();
    });
    const restored = await VectorIndex.restore(exported!.bytes, exported!.labels, {
      dimension: DIMENSION,
      kind: 'hnsw',
    });
    try {
      assert.equal(restored.size, 49);
      const hits = await restored.search(row(vectors, 4, DIMENSION), 49);
      assert.equal(hits.length, 49);
      assert.ok(hits.every((hit) => hit.chunkId !== 'c4'));
    } finally {
      await restored.close();
    }
  });

  it('rebuilds a flat export as the configured kind', async () => {
    const vectors = unitVectors(40, DIMENSION, 14);
    let exported: Awaited<ReturnType<VectorIndex['export']>> | undefined;
    await withIndex({}, async (index) => {
      await index.add(ids('c', 40), vectors);
      exported = await index.export();
    });
    const restored = await VectorIndex.restore(exported!.bytes, exported!.labels, {
      dimension: DIMENSION,
      kind: 'hnsw',
    });
    try {
      assert.equal(restored.kind, 'hnsw');
      assert.equal((await restored.search(row(vectors, 9, DIMENSION), 1))[0]?.chunkId, 'c9');
    } finally {
      await restored.close();
    }
  });
});
