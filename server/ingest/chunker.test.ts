import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../core/errors.js';
import { chunkDocument, joinPages, pageNumberAt, type Chunk, type ParsedPage } from './index.js';

/** Counts whitespace-separated words and records every call, to check batching. */
function wordCounter() {
  const calls: string[][] = [];
  const countTokens = async (texts: string[]) => {
    calls.push(texts);
    return texts.map((text) => text.split(/\s+/u).filter(Boolean).length);
  };
  return { calls, countTokens };
}

function sentences(count: number, prefix: string): string {
  return Array.from(
    { length: count },
    (_, index) => `${prefix} sentence ${index} has six words.`,
  ).join(' ');
}

function assertSlices(pages: ParsedPage[], chunks: Chunk[]): void {
  const joined = joinPages(pages);
  for (const chunk of chunks) {
    assert.equal(chunk.text, joined.text.slice(chunk.charStart, chunk.charEnd));
  }
}

describe('chunkDocument', () => {
  const pages: ParsedPage[] = [
    { pageNumber: 1, text: sentences(10, 'First') },
    { pageNumber: 2, text: sentences(10, 'Second') },
    { pageNumber: 3, text: sentences(10, 'Third') },
  ];

  test('offsets slice the joined text', async () => {
    const { countTokens } = wordCounter();
    const chunks = await chunkDocument('doc', pages, {
      countTokens,
      maxTokens: 20,
      overlapTokens: 6,
    });
    assert.ok(chunks.length > 5);
    assertSlices(pages, chunks);
    assert.deepEqual(
      chunks.map((chunk) => chunk.id),
      chunks.map((_, index) => `doc:${index}`),
    );
  });

  test('token bound is respected', async () => {
    const { countTokens } = wordCounter();
    const chunks = await chunkDocument('doc', pages, {
      countTokens,
      maxTokens: 20,
      overlapTokens: 6,
    });
    const counts = await countTokens(chunks.map((chunk) => chunk.text));
    assert.ok(
      counts.every((count) => count <= 20),
      `counts ${counts.join(',')}`,
    );
    assert.ok(
      counts.some((count) => count > 12),
      'chunks hold more than one sentence',
    );
  });

  test('page span covers a page boundary', async () => {
    const { countTokens } = wordCounter();
    const chunks = await chunkDocument('doc', pages, {
      countTokens,
      maxTokens: 20,
      overlapTokens: 6,
    });
    const straddling = chunks.filter((chunk) => chunk.pageStart !== chunk.pageEnd);
    assert.ok(straddling.length >= 2, 'a chunk straddles each of the two boundaries');
    for (const chunk of straddling) {
      assert.match(chunk.text, /\n\n/u);
      assert.equal(chunk.pageEnd, chunk.pageStart + 1);
    }
    const first = chunks.find((chunk) => chunk.text.includes('Second sentence 0 '));
    assert.ok(first);
    assert.ok(first.pageEnd >= 2);
    for (const chunk of chunks) {
      const startsOn = chunk.text.startsWith('First') ? 1 : chunk.text.startsWith('Second') ? 2 : 3;
      assert.equal(chunk.pageStart, startsOn, chunk.text);
    }
  });

  test('consecutive chunks overlap', async () => {
    const { countTokens } = wordCounter();
    const chunks = await chunkDocument('doc', pages, {
      countTokens,
      maxTokens: 20,
      overlapTokens: 6,
    });
    for (let index = 1; index < chunks.length; index++) {
      const previous = chunks[index - 1]!;
      const chunk = chunks[index]!;
      assert.ok(chunk.charStart < previous.charEnd, `chunk ${index} overlaps the one before`);
      assert.ok(chunk.charStart > previous.charStart, `chunk ${index} moves forward`);
      assert.ok(previous.text.endsWith(chunk.text.slice(0, previous.charEnd - chunk.charStart)));
    }
  });

  test('no overlap when overlapTokens is 0', async () => {
    const { countTokens } = wordCounter();
    const chunks = await chunkDocument('doc', pages, {
      countTokens,
      maxTokens: 20,
      overlapTokens: 0,
    });
    for (let index = 1; index < chunks.length; index++) {
      assert.ok(chunks[index]!.charStart >= chunks[index - 1]!.charEnd);
    }
  });

  test('overlong sentence is split, not dropped', async () => {
    const words = Array.from({ length: 95 }, (_, index) => `w${index}`);
    const long: ParsedPage[] = [
      { pageNumber: 7, text: `Short one. ${words.join(' ')}. Tail here.` },
    ];
    const { countTokens } = wordCounter();
    const chunks = await chunkDocument('long', long, {
      countTokens,
      maxTokens: 10,
      overlapTokens: 0,
    });
    assertSlices(long, chunks);
    const counts = await countTokens(chunks.map((chunk) => chunk.text));
    assert.ok(
      counts.every((count) => count <= 10),
      `counts ${counts.join(',')}`,
    );
    const covered = chunks.map((chunk) => chunk.text).join(' ');
    for (const word of words) assert.match(covered, new RegExp(`\\b${word}\\b`, 'u'));
    assert.ok(chunks.every((chunk) => chunk.pageStart === 7 && chunk.pageEnd === 7));
  });

  test('overlong word is split at graphemes', async () => {
    const word = 'x'.repeat(50);
    const { countTokens: countWords } = wordCounter();
    // Counts one token per 5 characters, so the single word is 10 tokens against a bound of 4.
    const countTokens = async (texts: string[]) => texts.map((text) => Math.ceil(text.length / 5));
    const chunks = await chunkDocument('w', [{ pageNumber: 1, text: word }], {
      countTokens,
      maxTokens: 4,
      overlapTokens: 0,
    });
    assert.equal(chunks.map((chunk) => chunk.text).join(''), word);
    assert.ok((await countTokens(chunks.map((chunk) => chunk.text))).every((count) => count <= 4));
    assert.equal((await countWords([word]))[0], 1);
  });

  test('token counter is called in batches', async () => {
    const many: ParsedPage[] = [{ pageNumber: 1, text: sentences(600, 'Many') }];
    const { calls, countTokens } = wordCounter();
    await chunkDocument('many', many, { countTokens, maxTokens: 60, countBatchSize: 256 });
    assert.ok(calls.length <= 6, `${calls.length} calls for 600 sentences`);
    assert.ok(calls.every((batch) => batch.length <= 256));
  });

  test('hard-wrapped lines stay one sentence', async () => {
    const wrapped: ParsedPage[] = [
      { pageNumber: 1, text: 'A sentence wrapped\nacross two lines. Next.' },
    ];
    const { calls, countTokens } = wordCounter();
    await chunkDocument('wrapped', wrapped, { countTokens, maxTokens: 100 });
    assert.deepEqual(calls[0], ['A sentence wrapped\nacross two lines.', 'Next.']);
  });

  test('empty document gives no chunks', async () => {
    const { countTokens } = wordCounter();
    assert.deepEqual(await chunkDocument('e', [{ pageNumber: 1, text: '' }], { countTokens }), []);
  });

  test('invalid options are all reported', async () => {
    const { countTokens } = wordCounter();
    await assert.rejects(
      chunkDocument('x', [], { countTokens, maxTokens: 0, overlapTokens: -1, countBatchSize: 0 }),
      (error) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.problems.length, 3);
        return true;
      },
    );
  });
});

describe('pageNumberAt', () => {
  const joined = joinPages([
    { pageNumber: 1, text: 'abc' },
    { pageNumber: 2, text: '' },
    { pageNumber: 3, text: 'de' },
  ]);

  test('maps offsets to pages', () => {
    assert.equal(joined.text, 'abc\n\n\n\nde');
    const expected = [1, 1, 1, 1, 1, 2, 2, 3, 3];
    assert.deepEqual(
      expected.map((_, offset) => pageNumberAt(joined, offset)),
      expected,
    );
  });

  test('offset past the end is the last page', () => {
    assert.equal(pageNumberAt(joined, 100), 3);
  });
});
