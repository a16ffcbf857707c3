import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DocumentStore, type DocumentStoreOptions } from './document-store.js';
import { DimensionMismatchError, ModelMismatchError } from './errors.js';
import { entry, putRecord, row } from './testing/fixtures.js';
import { recordingLogger } from './testing/recording-logger.js';

const DIMENSION = 8;

describe('DocumentStore', () => {
  let store: DocumentStore;

  beforeEach(async () => {
    store = await DocumentStore.open({ dimension: DIMENSION });
  });

  afterEach(async () => {
    await store.close();
  });

  it('applies a put and finds its chunks', async () => {
    const record = putRecord('alpha', 4, DIMENSION, 1);
    assert.equal(await store.apply(entry(1, record)), 'applied');
    assert.equal(store.documentCount, 1);
    assert.equal(store.chunkCount, 4);
    assert.equal(store.lastAppliedSeq, 1);
    const [hit] = await store.search(row(record.vectors, 2, DIMENSION), 1);
    assert.equal(hit?.chunk.id, record.chunks[2]!.id);
    assert.equal(hit.chunk.pageStart, 3);
    assert.equal(hit.chunk.charStart, 200);
    assert.equal(hit.document.name, 'alpha.pdf');
    assert.ok(hit.score > 0.999);
  });

  it('skips entries already applied', async () => {
    await store.apply(entry(5, putRecord('alpha', 2, DIMENSION, 1)));
    assert.equal(await store.apply(entry(5, putRecord('beta', 2, DIMENSION, 2))), 'skipped');
    assert.equal(await store.apply(entry(3, putRecord('gamma', 2, DIMENSION, 3))), 'skipped');
    assert.equal(store.documentCount, 1);
    assert.equal(store.lastAppliedSeq, 5);
  });

  it('keeps one copy of a document put twice', async () => {
    const record = putRecord('alpha', 3, DIMENSION, 1);
    await store.apply(entry(1, record));
    assert.equal(await store.apply(entry(2, record)), 'unchanged');
    assert.equal(store.chunkCount, 3);
    assert.equal(store.lastAppliedSeq, 2);
    const hits = await store.search(row(record.vectors, 0, DIMENSION), 10);
    assert.equal(hits.length, 3);
  });

  it('removes a deleted document from search', async () => {
    const alpha = putRecord('alpha', 3, DIMENSION, 1);
    const beta = putRecord('beta', 3, DIMENSION, 2);
    await store.apply(entry(1, alpha));
    await store.apply(entry(2, beta));
    const deletion = { type: 'document.delete' as const, documentId: alpha.document.id };
    assert.equal(await store.apply(entry(3, deletion)), 'applied');
    assert.equal(await store.apply(entry(4, deletion)), 'unchanged');
    assert.equal(store.documentCount, 1);
    assert.equal(store.getDocument(alpha.document.id), undefined);
    const hits = await store.search(row(alpha.vectors, 0, DIMENSION), 10);
    assert.equal(hits.length, 3);
    assert.ok(hits.every((hit) => hit.document.id === beta.document.id));
  });

  it('rejects an invalid seq', async () => {
    await assert.rejects(
      store.apply(entry(Number.NaN, putRecord('alpha', 1, DIMENSION, 1))),
      /seq must be a positive integer, got NaN/,
    );
    await assert.rejects(store.apply(entry(0, putRecord('alpha', 1, DIMENSION, 1))), /got 0/);
    assert.equal(store.lastAppliedSeq, 0);
  });

  it('applies conversation turns and advances its seq', async () => {
    const turn = {
      type: 'conversation.turn' as const,
      conversationId: 'c1',
      role: 'user' as const,
      text: 'hello',
      at: 0,
    };
    assert.equal(await store.apply(entry(1, turn)), 'applied');
    assert.equal(await store.apply(entry(1, turn)), 'skipped');
    assert.equal(store.lastAppliedSeq, 1);
    assert.equal(store.documentCount, 0);
    assert.equal(store.conversationCount, 1);
    assert.deepEqual(await store.conversationHistory('c1'), [
      { role: 'user', text: 'hello', at: 0 },
    ]);
  });

  it('returns no hits when empty', async () => {
    assert.deepEqual(await store.search(new Float32Array(DIMENSION).fill(0.5), 5), []);
  });

  it('rejects a put of another dimension', async () => {
    await assert.rejects(store.apply(entry(1, putRecord('alpha', 2, 16, 1))), (error) => {
      assert.ok(error instanceof DimensionMismatchError);
      assert.match(error.message, /must be 8 .* got 16/);
      return true;
    });
    assert.equal(store.lastAppliedSeq, 0);
  });

  it('rejects a put of another model', async () => {
    await store.apply(entry(1, putRecord('alpha', 2, DIMENSION, 1, 'model-a')));
    await assert.rejects(
      store.apply(entry(2, putRecord('beta', 2, DIMENSION, 2, 'model-b'))),
      ModelMismatchError,
    );
    assert.equal(store.lastAppliedSeq, 1);
  });

  it('rejects a put whose vectors miss rows', async () => {
    const record = { ...putRecord('alpha', 3, DIMENSION, 1) };
    record.vectors = record.vectors.subarray(0, DIMENSION * 2);
    await assert.rejects(store.apply(entry(1, record)), /must hold 24 floats .* got 16/);
    assert.equal(store.chunkCount, 0);
  });
});

describe('DocumentStore snapshots', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'streamcluster-store-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function openStore(extra: Partial<DocumentStoreOptions> = {}): Promise<DocumentStore> {
    return DocumentStore.open({ dimension: DIMENSION, dataDir, ...extra });
  }

  async function generations(): Promise<string[]> {
    return (await readdir(dataDir)).filter((name) => name.startsWith('generation-')).sort();
  }

  it('reloads documents, labels and seq', async () => {
    const alpha = putRecord('alpha', 3, DIMENSION, 1);
    const beta = putRecord('beta', 3, DIMENSION, 2);
    const first = await openStore();
    await first.apply(entry(1, alpha));
    await first.apply(entry(2, beta));
    await first.apply(entry(3, { type: 'document.delete', documentId: alpha.document.id }));
    const info = await first.snapshot();
    await first.close();
    assert.equal(info.lastAppliedSeq, 3);

    const second = await openStore();
    try {
      assert.equal(second.lastAppliedSeq, 3);
      assert.equal(second.documentCount, 1);
      assert.equal(second.model, 'test-model');
      const [hit] = await second.search(row(beta.vectors, 1, DIMENSION), 1);
      assert.equal(hit?.chunk.id, beta.chunks[1]!.id);
      assert.equal(await second.apply(entry(3, alpha)), 'skipped');
      assert.equal(await second.apply(entry(4, alpha)), 'applied');
      assert.equal(
        (await second.search(row(alpha.vectors, 0, DIMENSION), 1))[0]?.document.id,
        alpha.document.id,
      );
    } finally {
      await second.close();
    }
  });

  it('reloads an hnsw index with removals', async () => {
    const options = { index: { kind: 'hnsw' as const, compactRemovedRatio: 0.9 } };
    const alpha = putRecord('alpha', 5, DIMENSION, 1);
    const beta = putRecord('beta', 5, DIMENSION, 2);
    const first = await openStore(options);
    await first.apply(entry(1, alpha));
    await first.apply(entry(2, beta));
    await first.apply(entry(3, { type: 'document.delete', documentId: alpha.document.id }));
    await first.snapshot();
    await first.close();
    const second = await openStore(options);
    try {
      const hits = await second.search(row(alpha.vectors, 0, DIMENSION), 10);
      assert.equal(hits.length, 5);
      assert.ok(hits.every((hit) => hit.document.id === beta.document.id));
    } finally {
      await second.close();
    }
  });

  it('keeps the newest two generations', async () => {
    const store = await openStore();
    for (let seq = 1; seq <= 4; seq++) {
      await store.apply(entry(seq, putRecord(`doc${seq}`, 2, DIMENSION, seq)));
      await store.snapshot();
    }
    await store.close();
    assert.deepEqual(await generations(), ['generation-000000000003', 'generation-000000000004']);
  });

  it('falls back when the newest index file is corrupt', async () => {
    const store = await openStore();
    await store.apply(entry(1, putRecord('alpha', 2, DIMENSION, 1)));
    await store.snapshot();
    await store.apply(entry(2, putRecord('beta', 2, DIMENSION, 2)));
    await store.snapshot();
    await store.close();
    const newest = join(dataDir, (await generations())[1]!, 'index.faiss');
    const bytes = await readFile(newest);
    bytes[bytes.length - 5]! ^= 0xff;
    await writeFile(newest, bytes);

    const { logger, lines } = recordingLogger();
    const reopened = await openStore({ logger });
    try {
      assert.equal(reopened.lastAppliedSeq, 1);
      assert.equal(reopened.documentCount, 1);
      const warning = lines.find((line) => line.level === 40);
      assert.match(String(warning?.msg), /corrupt or incomplete; falling back/);
      assert.match(JSON.stringify(warning?.err), /index.faiss does not match/);
    } finally {
      await reopened.close();
    }
  });

  it('falls back when the newest manifest is truncated', async () => {
    const store = await openStore();
    await store.apply(entry(1, putRecord('alpha', 2, DIMENSION, 1)));
    await store.snapshot();
    await store.apply(entry(2, putRecord('beta', 2, DIMENSION, 2)));
    await store.snapshot();
    await store.close();
    const manifest = join(dataDir, (await generations())[1]!, 'manifest.json');
    await writeFile(manifest, (await readFile(manifest)).subarray(0, 40));
    const reopened = await openStore();
    try {
      assert.equal(reopened.lastAppliedSeq, 1);
    } finally {
      await reopened.close();
    }
  });

  it('starts empty when no generation is valid', async () => {
    const store = await openStore();
    await store.apply(entry(1, putRecord('alpha', 2, DIMENSION, 1)));
    await store.snapshot();
    await store.close();
    const dir = join(dataDir, (await generations())[0]!);
    await rm(join(dir, 'documents.jsonl'));
    const reopened = await openStore();
    try {
      assert.equal(reopened.lastAppliedSeq, 0);
      assert.equal(reopened.documentCount, 0);
    } finally {
      await reopened.close();
    }
  });

  it('removes an unfinished generation on open', async () => {
    const temp = join(dataDir, '.tmp-generation-7-1234');
    await mkdir(temp);
    await writeFile(join(temp, 'index.faiss'), 'half');
    const store = await openStore();
    await store.close();
    assert.deepEqual(await readdir(dataDir), []);
  });

  it('rejects a snapshot of another dimension instead of skipping it', async () => {
    const store = await openStore();
    await store.apply(entry(1, putRecord('alpha', 2, DIMENSION, 1)));
    await store.snapshot();
    await store.close();
    await assert.rejects(
      DocumentStore.open({ dimension: 16, dataDir }),
      /snapshot dimension must be 16 .* got 8/,
    );
  });

  it('rejects a snapshot without a data directory', async () => {
    const store = await DocumentStore.open({ dimension: DIMENSION });
    try {
      await assert.rejects(store.snapshot(), /dataDir must be set/);
    } finally {
      await store.close();
    }
  });
});
