import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NativeSearchResult } from './faiss-addon.js';
import { SearchBatcher } from './search-batcher.js';

const DIMENSION = 2;

/**
 * Records each batch and returns, for query row r, labels r*100 + 0..k-1, so every query can
 * check it received its own row. `gate` holds a batch open until released.
 */
function recordingSearch() {
  const batches: Array<{ rows: number; k: number }> = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  const run = async (queries: Float32Array, k: number): Promise<NativeSearchResult> => {
    const rows = queries.length / DIMENSION;
    batches.push({ rows, k });
    await gate;
    const labels = new Float64Array(rows * k);
    const distances = new Float32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < k; i++) {
        labels[r * k + i] = queries[r * DIMENSION]! * 100 + i;
        distances[r * k + i] = 1 - i / 10;
      }
    }
    return { labels, distances };
  };
  const hold = () => {
    gate = new Promise((resolve) => (release = resolve));
  };
  return { run, batches, hold, release: () => release() };
}

const query = (id: number) => new Float32Array([id, 0]);

describe('SearchBatcher', () => {
  it('merges queries issued together', async () => {
    const search = recordingSearch();
    const batcher = new SearchBatcher(search.run, DIMENSION, 64);
    const results = await Promise.all([1, 2, 3].map((id) => batcher.search(query(id), 2)));
    assert.deepEqual(search.batches, [{ rows: 3, k: 2 }]);
    assert.deepEqual([...results[1]!.labels], [200, 201]);
  });

  it('queues queries behind a running batch', async () => {
    const search = recordingSearch();
    const batcher = new SearchBatcher(search.run, DIMENSION, 64);
    search.hold();
    const first = batcher.search(query(1), 1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4].map((id) => batcher.search(query(id), 1));
    search.release();
    await Promise.all([first, ...later]);
    assert.deepEqual(search.batches, [
      { rows: 1, k: 1 },
      { rows: 3, k: 1 },
    ]);
  });

  it('gives each query its own k', async () => {
    const search = recordingSearch();
    const batcher = new SearchBatcher(search.run, DIMENSION, 64);
    const [small, large] = await Promise.all([
      batcher.search(query(5), 1),
      batcher.search(query(6), 4),
    ]);
    assert.deepEqual(search.batches, [{ rows: 2, k: 4 }]);
    assert.deepEqual([...small.labels], [500]);
    assert.deepEqual([...large.labels], [600, 601, 602, 603]);
  });

  it('splits batches at maxBatchSize', async () => {
    const search = recordingSearch();
    const batcher = new SearchBatcher(search.run, DIMENSION, 2);
    await Promise.all([1, 2, 3, 4, 5].map((id) => batcher.search(query(id), 1)));
    assert.deepEqual(
      search.batches.map((batch) => batch.rows),
      [2, 2, 1],
    );
  });

  it('rejects every query of a failed batch', async () => {
    const search = recordingSearch();
    let calls = 0;
    const failOnce = (queries: Float32Array, k: number) =>
      calls++ === 0 ? Promise.reject(new Error('native failure')) : search.run(queries, k);
    const batcher = new SearchBatcher(failOnce, DIMENSION, 64);
    const results = await Promise.allSettled([1, 2].map((id) => batcher.search(query(id), 1)));
    assert.deepEqual(
      results.map((result) => result.status),
      ['rejected', 'rejected'],
    );
    assert.equal((await batcher.search(query(3), 1)).labels[0], 300);
  });
});
