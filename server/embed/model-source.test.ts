import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { defaultModelDir, resolveModelSource } from './model-source.js';
import { createEmbedder } from './transformers-embedder.js';

describe('model source', () => {
  let scratch: string;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'streamcluster-model-'));
  });

  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('defaultModelDir honours STREAMCLUSTER_CACHE', () => {
    assert.equal(
      defaultModelDir({ STREAMCLUSTER_CACHE: '/srv/cache' }),
      '/srv/cache/models/all-MiniLM-L6-v2',
    );
  });

  test('hub id is recognised', () => {
    assert.deepEqual(resolveModelSource('Xenova/all-MiniLM-L6-v2'), {
      kind: 'hub',
      id: 'Xenova/all-MiniLM-L6-v2',
    });
  });

  test('missing model directory names make setup', async () => {
    const missing = join(scratch, 'no-such-model');

    await assert.rejects(createEmbedder({ model: missing }), {
      name: 'ModelNotFoundError',
      code: 'MODEL_NOT_FOUND',
      message: new RegExp(`${missing} was not found.*make setup`),
    });
  });

  test('incomplete model directory lists missing files', async () => {
    await writeFile(join(scratch, 'config.json'), '{}');

    await assert.rejects(createEmbedder({ model: scratch }), {
      code: 'MODEL_NOT_FOUND',
      message: /missing tokenizer\.json, tokenizer_config\.json, onnx\/model\.onnx/,
    });
  });

  test('invalid options are all reported', async () => {
    await assert.rejects(createEmbedder({ model: '', workers: 0, batchSize: 1.5 }), {
      code: 'INVALID_ARGUMENT',
      message: /model must be.*workers must be an integer of at least 1, got 0.*batchSize/,
    });
  });
});
