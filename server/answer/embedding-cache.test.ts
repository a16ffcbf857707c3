import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createHashedEmbedding } from '../../test/support/hashed-embedding.js';
import { cacheEmbeddings } from './embedding-cache.js';

describe('cacheEmbeddings', () => {
  it('embeds each text once', async () => {
    const { embed, calls } = createHashedEmbedding();
    const cached = cacheEmbeddings(embed, 10);

    const first = await cached(['apt clean', 'static address', 'apt clean']);
    const second = await cached(['static address', 'printer port']);

    assert.deepEqual(calls, [['apt clean', 'static address'], ['printer port']]);
    assert.equal(first[0], first[2]);
    assert.equal(second[0], first[1]);
  });

  it('returns vectors in input order', async () => {
    const { embed } = createHashedEmbedding();
    const cached = cacheEmbeddings(embed, 10);
    await cached(['b']);

    const vectors = await cached(['a', 'b', 'c']);
    const direct = await embed(['a', 'b', 'c']);
    assert.deepEqual(vectors, direct);
  });

  it('evicts the least recently used text', async () => {
    const { embed, calls } = createHashedEmbedding();
    const cached = cacheEmbeddings(embed, 2);
    await cached(['a', 'b']);
    await cached(['a']);
    await cached(['c']);

    calls.length = 0;
    await cached(['a', 'b']);
    assert.deepEqual(calls, [['b']]);
  });

  it('skips the embedder when every text is cached', async () => {
    const { embed, calls } = createHashedEmbedding();
    const cached = cacheEmbeddings(embed, 10);
    await cached(['a']);
    await cached(['a']);

    assert.equal(calls.length, 1);
  });
});
