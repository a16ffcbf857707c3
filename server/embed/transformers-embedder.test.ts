import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createEmbedder } from './transformers-embedder.js';
import { defaultModelDir } from './model-source.js';
import type { Embedder } from './types.js';

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z]+/g) ?? []);
}

/** Index of the passage whose vector is closest to the query's. */
function nearest(query: Float32Array, passages: Float32Array[]): number {
  const scores = passages.map((passage) => dot(query, passage));
  return scores.indexOf(Math.max(...scores));
}

describe('transformers.js embedder with all-MiniLM-L6-v2', () => {
  let embedder: Embedder;

  before(async () => {
    embedder = await createEmbedder({ model: defaultModelDir(), workers: 2, batchSize: 4 });
  });

  after(async () => {
    await embedder.close();
  });

  test('reports dimension and token budget', () => {
    assert.equal(embedder.dimension, 384);
    // max_seq_length 256 less [CLS] and [SEP].
    assert.equal(embedder.maxTokens, 254);
    assert.equal(embedder.modelName, defaultModelDir());
  });

  test('vectors have unit norm and the dimension', async () => {
    const vectors = await embedder.embed(['A short sentence.', '', 'x'.repeat(5_000)]);

    assert.equal(vectors.length, 3);
    for (const vector of vectors) {
      assert.equal(vector.length, 384);
      assert.ok(Math.abs(Math.sqrt(dot(vector, vector)) - 1) < 1e-5);
    }
  });

  test('matches published similarities', async () => {
    // sentence-transformers documentation, "Usage", for all-MiniLM-L6-v2.
    const [weather, sunny, stadium] = await embedder.embed([
      'The weather is lovely today.',
      "It's so sunny outside!",
      'He drove to the stadium.',
    ]);

    assert.ok(Math.abs(dot(weather!, sunny!) - 0.666) < 1e-3);
    assert.ok(Math.abs(dot(weather!, stadium!) - 0.1046) < 1e-3);
    assert.ok(Math.abs(dot(sunny!, stadium!) - 0.1411) < 1e-3);
  });

  test('paraphrase is closer than unrelated text', async () => {
    const [cat, kitten, market] = await embedder.embed([
      'A cat sits on the mat',
      'A kitten is sitting on a rug',
      'The stock market fell sharply today',
    ]);

    assert.ok(dot(cat!, kitten!) > dot(cat!, market!) + 0.2);
  });

  test('question retrieves passage without shared words', async () => {
    const passages = [
      'The central bank raised interest rates to curb inflation.',
      'Photosynthesis converts light energy into chemical energy stored in glucose.',
      'The striker scored twice in the final minutes of the match.',
      'Hamlet is a tragedy by William Shakespeare set in Denmark.',
      'Volcanic eruptions release ash and sulfur dioxide into the atmosphere.',
    ];
    const questions = [
      { text: 'How do green leaves produce sugar using sunshine?', answer: 1 },
      { text: 'Which author created the drama featuring the Danish prince?', answer: 3 },
    ];
    const passageVectors = await embedder.embed(passages);
    const questionVectors = await embedder.embed(questions.map((question) => question.text));

    questions.forEach((question, index) => {
      const shared = [...words(question.text)].filter((word) =>
        words(passages[question.answer]!).has(word),
      );
      assert.deepEqual(shared, [], `question ${index} shares words with its answer`);
      assert.equal(nearest(questionVectors[index]!, passageVectors), question.answer);
    });
  });

  test('batch order survives parallel workers', async () => {
    const texts = Array.from(
      { length: 18 },
      (_, index) =>
        `Sentence number ${index} talks about ${'topic '.repeat(index % 5)}item ${index}.`,
    );
    const together = await embedder.embed(texts);
    const alone = await Promise.all(texts.map(async (text) => (await embedder.embed([text]))[0]!));

    texts.forEach((_, index) => {
      assert.ok(dot(together[index]!, alone[index]!) > 0.99999, `text ${index} moved`);
    });
  });

  test('input longer than the model is truncated', async () => {
    const prefix = 'word '.repeat(embedder.maxTokens);
    const [first, second] = await embedder.embed([
      `${prefix} cats and dogs`,
      `${prefix} tax law reform`,
    ]);

    assert.ok(dot(first!, second!) > 0.99999);
  });

  test('countTokens counts without special tokens', async () => {
    const counts = await embedder.countTokens(['', 'hello world', 'word '.repeat(300)]);

    assert.deepEqual(counts, [0, 2, 300]);
  });

  test('countTokens keeps order across slices', async () => {
    const texts = Array.from({ length: 150 }, (_, index) => 'word '.repeat(index));

    const counts = await embedder.countTokens(texts);

    assert.deepEqual(
      counts,
      texts.map((_, index) => index),
    );
  });

  test('abort rejects a running embed', async () => {
    const controller = new AbortController();
    const texts = Array.from({ length: 64 }, (_, index) => `Text ${index} ${'filler '.repeat(50)}`);
    const pending = embedder.embed(texts, { signal: controller.signal });
    controller.abort();

    await assert.rejects(pending, { name: 'AbortError' });
    assert.equal((await embedder.embed(['still works'])).length, 1);
  });

  test('aborted signal rejects at once', async () => {
    await assert.rejects(embedder.embed(['x'], { signal: AbortSignal.abort() }), {
      name: 'AbortError',
    });
  });

  test('close rejects later calls', async () => {
    await embedder.close();

    await assert.rejects(embedder.embed(['x']), { code: 'EMBEDDER_CLOSED' });
    await assert.rejects(embedder.countTokens(['x']), { code: 'EMBEDDER_CLOSED' });
  });
});
